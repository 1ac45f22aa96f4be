"""Prometheus metrics: one module per concern, each defining its own series.

Every label takes values from a bounded set (consumer names, subjects, outcomes, API
methods, HTTP statuses, profile ids): never a request, event or device id.
"""
