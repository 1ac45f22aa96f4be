"""Token cache: used until shortly before expiry, dropped after a 401 (only the refused one)."""

from __future__ import annotations

from pydantic import SecretStr

from services.grants.adapters.tailscale.tokens import DEFAULT_LIFETIME_SECONDS, TokenCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_empty_cache_asks_for_a_token():
    assert TokenCache(clock=FakeClock()).current() is None


def test_token_is_renewed_shortly_before_it_expires():
    clock = FakeClock()
    cache = TokenCache(refresh_margin=60.0, clock=clock)
    cache.store(SecretStr("tskey-api-1"), 3600)
    clock.now += 3600 - 61
    assert cache.current() == SecretStr("tskey-api-1")
    clock.now += 1
    assert cache.current() is None


def test_margin_scales_down_for_short_lived_tokens():
    clock = FakeClock()
    cache = TokenCache(refresh_margin=60.0, clock=clock)
    cache.store(SecretStr("tskey-api-short"), 10)  # margin: a tenth of its life, 1s
    clock.now += 8.9
    assert cache.current() is not None
    clock.now += 0.2
    assert cache.current() is None


def test_missing_lifetime_assumes_an_hour():
    clock = FakeClock()
    cache = TokenCache(refresh_margin=60.0, clock=clock)
    cache.store(SecretStr("tskey-api-1"), None)
    clock.now += DEFAULT_LIFETIME_SECONDS - 61
    assert cache.current() is not None


def test_invalidate_drops_only_the_refused_token():
    cache = TokenCache(clock=FakeClock())
    cache.store(SecretStr("tskey-api-new"), 3600)
    cache.invalidate(SecretStr("tskey-api-old"))  # a 401 that raced with a refresh
    assert cache.current() == SecretStr("tskey-api-new")
    cache.invalidate(SecretStr("tskey-api-new"))
    assert cache.current() is None
