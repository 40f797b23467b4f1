"""Every read of GitHub a decision needs: GitHub state in, frozen models out. Nothing here writes.

- `reads`: paging, timestamps, and "a 404 means there is none".
- `repo_config`: the repository's `.github/ringbot.yml`, cached by blob SHA.
- `pulls`: pull requests, builds, reviews and permissions (the merge gate's inputs).
- `rings`: the rings' deployments and ledger, read once per job into a `RingsView`.
- `history`: the default branch's history and merged pull requests (where a release stands).
"""
