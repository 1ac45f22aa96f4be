"""Grants as shared holders of one attribute on one device, kept in line with Tailscale.

Every change (a grant joins, moves its end, or leaves) is first written to the
pair's holders record by compare-and-set, then Tailscale is made to match the
record: the latest end among the active holders, or no attribute when none is
left. Finally what was written is recorded by compare-and-set at the revision it
was computed from. If that fails, another replica changed the record meanwhile
and its Tailscale call may have landed before ours: read again and redo, so the
last word in Tailscale is always computed from the latest record. Inside one
process a keyed lock runs the changes of one pair one at a time, in order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from services.grants.domain.holders import AttributeHolders, Holder, holders_key
from services.grants.domain.tailscale_errors import TailscaleError, TailscaleRejectedError
from services.grants.handlers.attribute_changes import Placement, remove_if_ours, set_once
from services.grants.handlers.holders_store import HoldersStore, StoredHolders
from services.grants.ports import AttributeApi
from shared.keyed_locks import KeyedLocks
from shared.persistence.transact import Decision, TooManyConflictsError, transact
from shared.persistence.versioned import ConflictError, Versioned
from shared.retry import CONFLICT_ATTEMPTS, CONFLICT_RETRY_DELAY, RetryLaterError

log = structlog.get_logger("accessbot.grants.shared_attribute")

Change = Callable[[AttributeHolders], AttributeHolders]


class AttributeBusyError(RetryLaterError):
    """Other replicas kept changing the pair: the message is retried a little later."""

    def __init__(self, device_id: str, attribute: str) -> None:
        super().__init__(
            f"{attribute} on {device_id} kept changing under us", delay=CONFLICT_RETRY_DELAY
        )


class SharedAttribute:
    """Join, move and leave one (device, attribute) pair on behalf of a grant."""

    def __init__(
        self,
        store: HoldersStore,
        api: AttributeApi,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._api = api
        self._now = now
        self._locks = KeyedLocks()

    async def expected_expiry(self, device_id: str, attribute: str, holder: Holder) -> datetime:
        """The expiry Tailscale would show with `holder` among the pair's active holders."""
        stored = await self._store.get(device_id, attribute)
        target = stored.holders.with_holder(holder).latest(self._now())
        return target.expires_at if target is not None else holder.expires_at

    async def join(
        self,
        device_id: str,
        attribute: str,
        holder: Holder,
        *,
        previous: Holder | None,
        check_first: bool,
        deadline: float,
    ) -> None:
        """Hold the attribute as `holder` says (new, or a moved end), and write it.

        When Tailscale refuses, the claim goes back to `previous` (None: dropped) and the
        TailscaleError is raised for the caller to record.
        """
        try:
            await self._settle(
                device_id,
                attribute,
                lambda h: h.with_holder(holder),
                writer=holder,
                check_first=check_first,
                deadline=deadline,
            )
        except TailscaleError:
            undo: Change = (
                (lambda h: h.with_holder(previous))
                if previous is not None
                else (lambda h: h.without(holder.request_id))
            )
            await self._change(device_id, attribute, undo)
            raise

    async def leave(
        self, device_id: str, attribute: str, leaving: Holder, *, deadline: float
    ) -> Holder | None:
        """Drop `leaving`'s claim; returns the holder the attribute continues under, if any."""
        return await self._settle(
            device_id,
            attribute,
            lambda h: h.without(leaving.request_id),
            writer=None,
            fallback=leaving,
            check_first=False,
            deadline=deadline,
        )

    async def _change(self, device_id: str, attribute: str, change: Change) -> StoredHolders:
        empty = AttributeHolders.empty(device_id, attribute)

        def decide(
            stored: Versioned[AttributeHolders] | None,
        ) -> Decision[AttributeHolders, None]:
            holders = stored.record if stored is not None else empty
            changed = change(holders)
            return Decision(None if changed == holders else changed, None)

        try:
            done = await transact(self._store.records, holders_key(device_id, attribute), decide)
        except TooManyConflictsError:
            raise AttributeBusyError(device_id, attribute) from None
        latest = done.latest
        if latest is None:
            return StoredHolders(empty, 0)
        return StoredHolders(latest.record, latest.revision)

    async def _settle(
        self,
        device_id: str,
        attribute: str,
        change: Change,
        *,
        writer: Holder | None,
        check_first: bool,
        deadline: float,
        fallback: Holder | None = None,
    ) -> Holder | None:
        """Apply `change`, make Tailscale match, record it; the holder it continues under."""
        async with self._locks.hold(f"{device_id}\n{attribute}"):
            stored = await self._change(device_id, attribute, change)
            for _ in range(CONFLICT_ATTEMPTS):
                target = stored.holders.latest(self._now())
                if target is None:
                    gone = stored.holders.written or fallback
                    if gone is not None:
                        await remove_if_ours(
                            self._api, _placement(stored.holders, gone, gone), deadline=deadline
                        )
                    written = None
                else:
                    # The grant acting writes its own value and comment; the expiry is the latest.
                    source = writer if writer is not None else target
                    written = source.model_copy(update={"expires_at": target.expires_at})
                    try:
                        await set_once(
                            self._api,
                            _placement(stored.holders, source, target),
                            comment=source.comment,
                            check_first=check_first,
                            deadline=deadline,
                        )
                    except TailscaleRejectedError as exc:
                        if writer is not None or exc.status_code != 404:
                            raise
                        # Ending a grant on a device that is gone: nothing left to keep.
                        log.info("grant.device_gone", device_id=device_id)
                try:
                    await self._store.put(stored.holders.with_written(written), stored.revision)
                except ConflictError:
                    log.info("grant.holders_changed_meanwhile", device_id=device_id)
                    stored = await self._store.get(device_id, attribute)
                    check_first = False  # the record moved: write what it says now
                    continue
                return target
        raise AttributeBusyError(device_id, attribute)


def _placement(holders: AttributeHolders, source: Holder, target: Holder) -> Placement:
    return Placement(
        device_id=holders.device_id,
        attribute=holders.attribute,
        value=source.value,
        expiry=target.expires_at,
    )
