"""Fixtures for grants tests: the Tailscale emulator with an OAuth client for grants."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from emulators.tailscale import TailscaleEmulator, generate_devices
from tests.grants.support import CLIENT_ID, CLIENT_SECRET, OWNERS, SCOPES


@pytest.fixture
async def emulator() -> AsyncIterator[TailscaleEmulator]:
    """A 20-device tailnet; Tailscale's own expiry lags 5 minutes, so grants must delete."""
    emu = TailscaleEmulator(
        tailnet="example.com",
        devices=generate_devices(n=20, seed=1, owners=OWNERS),
        attribute_expiry_lag=300.0,
    )
    emu.add_oauth_client(CLIENT_ID, CLIENT_SECRET, scopes=SCOPES, tags=["tag:accessbot"])
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()
