"""Pure markdown: render decisions into the titles and texts ringbot publishes on GitHub."""
