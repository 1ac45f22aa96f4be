"""Grants: the only holder of Tailscale credentials; applies, extends, revokes and expires
posture attributes, and keeps the `devices` inventory (docs/architecture.md, Parts)."""
