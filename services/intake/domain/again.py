""" "Request again" (pure): the request form filled in as an ended request was.

The button's value (`shared.slack_ids.AgainValue`) comes back from Slack untrusted.
Each part is checked against profiles.yaml and the device index as the form's own
validation would check it; what no longer holds is left empty and the form says so,
one line each. The submission is validated again like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from services.intake.domain.device_index import is_own_device
from services.intake.domain.validation import DeviceLookup, device_error, duration_error
from shared.contracts.events import DeviceSnapshot
from shared.durations import presets_up_to
from shared.profiles import Profile, ProfilesConfig
from shared.slack_ids import AgainValue

PROFILE_GONE = "The access asked for before is not offered any more; choose what you need."
DURATION_GONE = "The duration asked for before is not offered any more; choose one."
CHOOSE_ANOTHER_DURATION = " Choose a duration it allows."


@dataclass(frozen=True, slots=True)
class Prefill:
    """What the request form shows already chosen or typed."""

    device: DeviceSnapshot | None = None
    own_device: bool = True  # else its option names whose it is, as the picker does
    duration_seconds: int | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AgainForm:
    """The form to open: the profile (None: it is gone), what to fill in, and why not more."""

    profile: Profile | None
    prefill: Prefill
    notes: tuple[str, ...] = ()


def _duration(seconds: int | None, profiles: ProfilesConfig, profile: Profile) -> int | str | None:
    """The seconds to preselect, or the note saying why not (None: nothing to say)."""
    if seconds is None:
        return None
    maximum = profiles.max_duration(profile)
    too_long = duration_error(str(seconds), profile, maximum)
    if too_long is not None:
        return too_long + CHOOSE_ANOTHER_DURATION
    if timedelta(seconds=seconds) not in presets_up_to(maximum):
        return DURATION_GONE
    return seconds


def again_form(
    value: AgainValue, profiles: ProfilesConfig, devices: DeviceLookup, requester_email: str
) -> AgainForm:
    """What the form opened by "Request again" shows, from what still holds."""
    profile = profiles.get(value.profile_id) if value.profile_id else None
    if profile is None:
        return AgainForm(profile=None, prefill=Prefill(), notes=(PROFILE_GONE,))
    notes: list[str] = []
    device = devices.get(value.device_id) if value.device_id else None
    if value.device_id is not None:
        problem = device_error(value.device_id, device, profile, requester_email)
        if problem is not None:
            notes.append(problem)
            device = None
    duration = _duration(value.duration_seconds, profiles, profile)
    if isinstance(duration, str):
        notes.append(duration)
        duration = None
    prefill = Prefill(
        device=device,
        own_device=device is None or is_own_device(device, requester_email),
        duration_seconds=duration,
        reason=value.reason,
    )
    return AgainForm(profile=profile, prefill=prefill, notes=tuple(notes))
