"""Approvals: decides from profiles.yaml and its own state whether a request is approved."""

SERVICE = "approvals"  # service name and NATS user
SOURCE = "accessbot/approvals"  # ce-source of everything it publishes
