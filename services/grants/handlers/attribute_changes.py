"""The Tailscale side of each grant operation, safe to repeat after a crash.

Setting checks first when the operation is being resumed (the previous owner may
have set it already), so a grant is POSTed once. Removing deletes only the value
grants last wrote (what someone else set since is left alone) and reads the
attributes again to confirm it is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog

from services.grants.domain.posture_attributes import AttributeValue
from services.grants.domain.records import Failure
from services.grants.domain.tailscale_errors import (
    TailscaleError,
    TailscaleRejectedError,
    TailscaleUnavailableError,
)
from services.grants.ports import AttributeApi

log = structlog.get_logger("accessbot.grants.attributes")


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


@dataclass(frozen=True, slots=True)
class Placement:
    """One value with one expiry for one attribute on one device: what Tailscale should hold."""

    device_id: str
    attribute: str
    value: AttributeValue
    expiry: datetime


async def set_once(
    api: AttributeApi,
    placement: Placement,
    *,
    comment: str,
    check_first: bool,
    deadline: float,
) -> None:
    """Set the attribute as `placement` says, unless a check shows it is set already.

    On retries exhausted, look once more: a timed-out POST may have landed, and a
    grant that is in place must not be reported as failed.
    """
    if check_first and await _holds(api, placement, deadline):
        log.info("grant.attribute_already_set", device_id=placement.device_id)
        return
    try:
        await api.set_attribute(
            placement.device_id,
            placement.attribute,
            placement.value,
            expiry=placement.expiry,
            comment=comment,
            deadline=deadline,
        )
    except TailscaleUnavailableError:
        try:
            landed = await _holds(api, placement, None)
        except TailscaleError:
            landed = False
        if not landed:
            raise
        log.warning("grant.attribute_set_despite_errors", device_id=placement.device_id)


async def _holds(api: AttributeApi, placement: Placement, deadline: float | None) -> bool:
    found = await api.get_attributes(placement.device_id, deadline=deadline)
    return found.holds(placement.attribute, placement.value, placement.expiry)


async def remove_if_ours(api: AttributeApi, placement: Placement, *, deadline: float) -> None:
    """Delete the attribute grants set and confirm it is gone (a gone device is fine).

    Anything else found there (another value or expiry) was set by someone else since
    and is left in place.
    """
    device_id, attribute = placement.device_id, placement.attribute
    try:
        found = await api.get_attributes(device_id, deadline=deadline)
    except TailscaleRejectedError as exc:
        if exc.status_code == 404:
            log.info("grant.device_gone", device_id=device_id)
            return
        raise
    if not found.holds(attribute, placement.value, placement.expiry):
        if attribute in found.values:
            log.warning(
                "grant.attribute_not_ours",
                device_id=device_id,
                attribute=attribute,
                hint="someone else set it since; left in place",
            )
        return
    await api.delete_attribute(device_id, attribute, deadline=deadline)
    after = await api.get_attributes(device_id, deadline=deadline)
    if after.holds(attribute, placement.value, placement.expiry):
        raise AttributeStillPresentError(f"{attribute} still set on {device_id} after DELETE")
