"""Benchmarks: scripts that print figures (p50/p99, throughput, RSS), not timed tests."""
