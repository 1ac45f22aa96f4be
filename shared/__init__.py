"""Contracts shared by the Accessbot services: events, subjects, profiles, settings."""
