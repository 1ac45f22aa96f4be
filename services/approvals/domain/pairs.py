"""One device, one profile, one grant: the (profile, device) claim a request holds (pure).

A request holds its pair in KV `device_claims` while it is pending, approved or active
(`shared.device_claims`). Opening a request takes the pair by compare-and-set unless
another live request holds it (then the submission is rejected, pointing to Extend);
every later change of the record is followed into the claim; a request that is over
marks it ended. Whether another request holds the pair is judged from that request's
record, never from the claim alone (a claim may lag its record).
"""

from __future__ import annotations

from datetime import datetime

from services.approvals.domain.record import GrantStatus, RequestRecord, RequestStatus
from shared.contracts.events import SubmitRequest
from shared.device_claims import ClaimState, DeviceClaim
from shared.persistence.transact import Decision
from shared.persistence.versioned import Versioned


def claim_of(record: RequestRecord, revision: int = 0) -> DeviceClaim | None:
    """The claim `record` holds now; None when it holds none (rejected, or over)."""
    state: ClaimState
    until: datetime | None = None
    grant = record.grant
    if record.status is RequestStatus.PENDING:
        state, until = ClaimState.PENDING, record.expires_at
    elif record.status is not RequestStatus.APPROVED:
        return None
    elif grant is None:
        state = ClaimState.APPROVED
    elif grant.status is GrantStatus.ACTIVE:
        state, until = ClaimState.ACTIVE, grant.expires_at
    else:
        return None
    return DeviceClaim(
        request_id=record.request_id,
        profile_id=record.profile_id,
        device_id=record.device_id,
        requester=record.requester.email,
        state=state,
        until=until,
        record_revision=revision,
    )


def opening_claim(sub: SubmitRequest, until: datetime) -> DeviceClaim:
    """What a submission takes before its record exists: pending until its TTL would end."""
    return DeviceClaim(
        request_id=sub.request_id,
        profile_id=sub.profile_id,
        device_id=sub.device_id,
        requester=sub.requester.email,
        state=ClaimState.PENDING,
        until=until,
    )


def holder(
    stored: DeviceClaim, record: Versioned[RequestRecord] | None, now: datetime
) -> DeviceClaim | None:
    """The live claim of the request `stored` names, judged from its record; None: free.

    A claim whose record is not written yet (another replica between taking the pair and
    opening the request) holds until its own end."""
    if stored.state is ClaimState.ENDED:
        return None  # written only from a record that is over, and over is for ever
    if record is None:
        return stored if stored.holds(now) else None
    live = claim_of(record.record, record.revision)
    return live if live is not None and live.holds(now) else None


def follow(
    record: Versioned[RequestRecord], stored: Versioned[DeviceClaim] | None
) -> Decision[DeviceClaim, None]:
    """Keep the pair's claim in step with `record`, if the claim is this request's and
    was derived from an older revision (replicas may follow out of order)."""
    claim = stored.record if stored is not None else None
    if claim is None or claim.request_id != record.record.request_id:
        return Decision(None, None)
    if claim.record_revision > record.revision:
        return Decision(None, None)
    target = claim_of(record.record, record.revision) or claim.model_copy(
        update={"state": ClaimState.ENDED, "until": None, "record_revision": record.revision}
    )
    if (target.state, target.until) == (claim.state, claim.until):
        return Decision(None, None)  # a write that changes nothing people can see
    return Decision(target, None)
