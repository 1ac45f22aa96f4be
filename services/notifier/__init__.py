"""The notifier: turns ACCESS events into Slack messages people can act on (issue #7)."""
