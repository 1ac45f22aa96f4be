"""An async Tailscale API client: OAuth client credentials, retries, typed errors."""
