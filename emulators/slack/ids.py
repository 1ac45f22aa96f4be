"""Identifiers shaped like Slack's (channel, view, trigger, ts, hash, envelope ids)."""

from __future__ import annotations

import random
import string
import uuid

_UPPER_ALNUM = string.ascii_uppercase + string.digits
_ALNUM = string.ascii_letters + string.digits


class IdFactory:
    """Makes ids from a private RNG so a seeded emulator hands out the same ids every run."""

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)

    def slack_id(self, prefix: str, length: int = 10) -> str:
        """An id like Slack's object ids: one type letter, then upper-case alphanumerics."""
        return prefix + "".join(self._rng.choice(_UPPER_ALNUM) for _ in range(length))

    def short(self, length: int = 5) -> str:
        """A block_id/action_id like the ones Slack fills in when the app leaves them out."""
        return "".join(self._rng.choice(_ALNUM) for _ in range(length))

    def trigger_id(self, now: float) -> str:
        """`<epoch seconds>.<team number>.<hex>`, the shape Slack's trigger ids have."""
        return f"{int(now)}.{self._rng.randrange(10**9, 10**10)}.{self._rng.getrandbits(128):032x}"

    def view_hash(self, now: float) -> str:
        """`<epoch seconds>.<8 alphanumerics>` like `1596530361.3wRYuk3R`."""
        return f"{int(now)}.{self.short(8)}"

    def envelope_id(self) -> str:
        """A UUID4 string, the form Socket Mode envelope ids take."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def action_ts(self, now: float) -> str:
        return f"{now:.6f}"
