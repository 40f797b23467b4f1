"""ringbot: a GitHub App that runs a ring release process."""
