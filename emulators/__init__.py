"""Local emulators of the third-party services Accessbot talks to (Tailscale, Slack)."""
