"""Intake: the Slack front door. Translates Slack interactions into ACCESS commands.

Stateless; holds only Slack credentials. See docs/architecture.md (Parts, A request's lifecycle).
"""
