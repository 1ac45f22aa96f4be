"""The `accessbot` command: runs services, the dev sandbox, checks, and audit tools."""
