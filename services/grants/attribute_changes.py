"""The Tailscale side of each grant operation, safe to repeat after a crash.

Setting checks first when the operation is being resumed (the previous owner may
have set it already), so a grant is POSTed once. Removing deletes only the value
this grant set (a newer grant of the same attribute is left alone) and reads the
attributes again to confirm it is gone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import structlog

from services.grants.records import Failure, GrantRecord
from services.grants.tailscale.attributes import AttributeValue, DeviceAttributes
from services.grants.tailscale.errors import (
    TailscaleError,
    TailscaleRejectedError,
    TailscaleUnavailableError,
)

log = structlog.get_logger("accessbot.grants.attributes")


class AttributeApi(Protocol):
    """The Tailscale calls grants makes about one device (TailscaleClient provides them)."""

    async def get_attributes(
        self, device_id: str, *, deadline: float | None = None
    ) -> DeviceAttributes: ...

    async def set_attribute(
        self,
        device_id: str,
        key: str,
        value: AttributeValue,
        *,
        expiry: datetime | None,
        comment: str | None,
        deadline: float | None = None,
    ) -> None: ...

    async def delete_attribute(
        self, device_id: str, key: str, *, deadline: float | None = None
    ) -> bool: ...


class AttributeStillPresentError(Exception):
    """The attribute was deleted but still reads back; retried later."""


def failure_from(exc: TailscaleError) -> Failure:
    """A grant failure a person can act on, from the API error."""
    if isinstance(exc, TailscaleUnavailableError):
        message = f"Tailscale did not accept the change in time ({exc.attempts} attempts): {exc}"
    elif isinstance(exc, TailscaleRejectedError):
        message = f"Tailscale refused the change: {exc}"
    else:
        message = str(exc)
    return Failure(
        error_code=exc.error_code,
        message=message[:1000],
        status_code=exc.status_code,
        retryable=exc.retryable,
    )


async def set_once(
    api: AttributeApi,
    record: GrantRecord,
    *,
    expiry: datetime,
    comment: str,
    check_first: bool,
    deadline: float,
) -> None:
    """Set the grant's attribute with `expiry`, unless a check shows it is set already.

    On retries exhausted, look once more: a timed-out POST may have landed, and a
    grant that is in place must not be reported as failed.
    """
    if check_first and await _holds(api, record, expiry, deadline):
        log.info("grant.attribute_already_set", device_id=record.device_id)
        return
    try:
        await api.set_attribute(
            record.device_id,
            record.attribute,
            record.value,
            expiry=expiry,
            comment=comment,
            deadline=deadline,
        )
    except TailscaleUnavailableError:
        try:
            landed = await _holds(api, record, expiry, None)
        except TailscaleError:
            landed = False
        if not landed:
            raise
        log.warning("grant.attribute_set_despite_errors", device_id=record.device_id)


async def _holds(
    api: AttributeApi, record: GrantRecord, expiry: datetime, deadline: float | None
) -> bool:
    found = await api.get_attributes(record.device_id, deadline=deadline)
    return found.holds(record.attribute, record.value, expiry)


async def remove_if_ours(api: AttributeApi, record: GrantRecord, *, deadline: float) -> None:
    """Delete the attribute this grant set and confirm it is gone (a gone device is fine)."""
    try:
        found = await api.get_attributes(record.device_id, deadline=deadline)
    except TailscaleRejectedError as exc:
        if exc.status_code == 404:
            log.info("grant.device_gone", device_id=record.device_id)
            return
        raise
    if not found.holds(record.attribute, record.value, record.expires_at):
        if record.attribute in found.values:
            log.warning(
                "grant.attribute_not_ours",
                device_id=record.device_id,
                attribute=record.attribute,
                hint="another grant set it since; left in place",
            )
        return
    await api.delete_attribute(record.device_id, record.attribute, deadline=deadline)
    after = await api.get_attributes(record.device_id, deadline=deadline)
    if after.holds(record.attribute, record.value, record.expires_at):
        raise AttributeStillPresentError(
            f"{record.attribute} still set on {record.device_id} after DELETE"
        )
