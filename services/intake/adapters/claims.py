"""The (profile, device) claims approvals keeps in KV `device_claims`, read by key.

A hint for the form, read with STREAM.MSG.GET (`get_checked`) like every record used
for a decision: a copy stored by a JetStream API answer is refused, as is anything that
does not parse. Approvals decides again from its own records.
"""

from __future__ import annotations

import structlog
from nats.js.kv import KeyValue
from pydantic import ValidationError

from shared.device_claims import DeviceClaim, claim_key
from shared.kv_reading import ForgedEntryError, get_checked

log = structlog.get_logger("accessbot.intake.claims")


class ClaimReader:
    """Looks a (profile, device) claim up; an absent, forged or unreadable one is None."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    async def claim(self, profile_id: str, device_id: str) -> DeviceClaim | None:
        """The claim on the pair, if a valid one is stored."""
        key = claim_key(profile_id, device_id)
        try:
            found = await get_checked(self._kv, key)
        except ForgedEntryError as exc:
            log.error("claim.forged", key=key, error=str(exc))
            return None
        if found is None:
            return None
        try:
            return DeviceClaim.model_validate_json(found[0])
        except ValidationError as exc:
            log.error("claim.invalid", key=key, error=str(exc))
            return None
