"""Idempotency ledgers are bounded, and what happens at the bound is the oldest forgotten."""

from __future__ import annotations

import pytest

from shared.persistence.ledger import LEDGER_LIMIT, RecentKeys, remember


def test_remember_adds_once() -> None:
    assert remember(["a"], "a") == ["a"]
    assert remember(["a"], "b") == ["a", "b"]


def test_remember_forgets_the_oldest_past_the_limit() -> None:
    ledger: list[str] = []
    for n in range(LEDGER_LIMIT + 1):
        ledger = remember(ledger, f"id-{n}")
    assert len(ledger) == LEDGER_LIMIT
    assert ledger[0] == "id-1"
    assert ledger[-1] == f"id-{LEDGER_LIMIT}"
    assert remember(["a", "b", "c"], "d", limit=3) == ["b", "c", "d"]


def test_recent_keys_expire_after_their_ttl() -> None:
    now = [0.0]
    keys: RecentKeys[str] = RecentKeys(ttl=10, max_size=5, clock=lambda: now[0])
    keys.add("k", "v")
    now[0] = 9.9
    assert keys.get("k") == "v"
    now[0] = 10.0
    assert keys.get("k") is None
    assert len(keys) == 0


def test_recent_keys_drop_the_oldest_at_max_size() -> None:
    keys: RecentKeys[int] = RecentKeys(ttl=60, max_size=3, clock=lambda: 0.0)
    for n in range(4):
        keys.add(f"k{n}", n)
    assert len(keys) == 3
    assert keys.get("k0") is None
    assert [keys.get(f"k{n}") for n in (1, 2, 3)] == [1, 2, 3]
    assert keys.pop("k2") == 2
    assert keys.get("k2") is None


def test_recent_keys_refuse_a_size_below_one() -> None:
    with pytest.raises(ValueError, match="max_size"):
        RecentKeys(ttl=1, max_size=0)
