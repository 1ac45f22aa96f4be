"""Intake: the Slack front door. Translates Slack interactions into ACCESS commands.

Stateless; holds only Slack credentials. See DESIGN.md (Parts, Lifecycle).
"""
