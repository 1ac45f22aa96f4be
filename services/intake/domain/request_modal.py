"""The request modal (Block Kit, pure): a profile picker, then that profile's fields.

Up to 100 profiles (a static select's limit) are listed in the picker; with more, the
picker searches them (an external select answered from profiles.yaml through
block_suggestion), so every profile stays reachable and none is silently left out.

Golden JSON tests (tests/intake/golden/) pin what users see.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    ExternalDataSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from services.intake.domain.again import Prefill
from services.intake.domain.approvers import (
    ApproverCandidate,
    approver_value,
    fits_radio_buttons,
    offers_approver_choice,
)
from services.intake.domain.device_options import device_option
from services.intake.domain.durations_text import human_duration
from services.intake.domain.metadata import ModalMetadata
from shared.durations import presets_up_to
from shared.profiles import DeviceScope, Profile, ProfilesConfig
from shared.slack_ids import ANY_APPROVER, ActionId, BlockId, CallbackId
from shared.slack_limits import (
    CONTEXT_ELEMENTS,
    MAX_REASON,
    OPTION_DESCRIPTION,
    OPTION_TEXT,
    SELECT_OPTIONS,
    TEXT_OBJECT,
    clip_plain,
)


def _profile_option(profile: Profile) -> Option:
    return Option(value=profile.id, text=clip_plain(profile.description, OPTION_TEXT))


def profiles_fit_a_list(profiles: ProfilesConfig) -> bool:
    """Whether every profile fits a static select; beyond that the picker searches."""
    return len(profiles.profiles) <= SELECT_OPTIONS


def _profile_block(profiles: ProfilesConfig, chosen: Profile | None) -> InputBlock:
    initial = _profile_option(chosen) if chosen else None
    element: StaticSelectElement | ExternalDataSelectElement
    if profiles_fit_a_list(profiles):
        element = StaticSelectElement(
            action_id=ActionId.PROFILE_SELECT,
            placeholder="What do you need access to?",
            options=[_profile_option(p) for p in profiles.profiles],
            initial_option=initial,
        )
    else:
        element = ExternalDataSelectElement(
            action_id=ActionId.PROFILE_SELECT,
            placeholder="Type to search what you need access to",
            min_query_length=0,  # list the first ones as soon as it opens
            initial_option=initial,
        )
    return InputBlock(
        block_id=BlockId.PROFILE,
        label="Access",
        dispatch_action=True,  # choosing a profile re-renders the form for it
        element=element,
    )


def profile_suggestions(profiles: ProfilesConfig, query: str) -> dict[str, Any]:
    """The block_suggestion answer of the profile search: the first 100 that match.

    A profile matches when the typed words all occur in its description or id.
    """
    words = query.lower().split()
    found = [
        p for p in profiles.profiles if all(w in p.description.lower() or w in p.id for w in words)
    ]
    return {"options": [_profile_option(p).to_dict() for p in found[:SELECT_OPTIONS]]}


def _summary(profiles: ProfilesConfig, profile: Profile) -> ContextBlock:
    parts = [f"Up to *{human_duration(profiles.max_duration(profile))}*"]
    if profile.break_glass:
        parts.append(":rotating_light: granted at once, and the audit channels are alerted")
    elif profile.approvals_required > 1:
        parts.append(f"{profile.approvals_required} approvals needed")
    else:
        parts.append("1 approval needed")
    parts.append(
        "your own devices" if profile.devices is DeviceScope.OWN else "any device in the tailnet"
    )
    return ContextBlock(elements=[MarkdownTextObject(text=" · ".join(parts))])


def _device_block(profile: Profile, prefill: Prefill) -> InputBlock:
    own = profile.devices is DeviceScope.OWN
    initial = (
        device_option(prefill.device, show_owner=not prefill.own_device)
        if prefill.device is not None
        else None
    )
    return InputBlock(
        block_id=BlockId.DEVICE,
        label="Device",
        hint="Only your own devices qualify." if own else None,
        element=ExternalDataSelectElement(
            action_id=ActionId.DEVICE_SELECT,
            placeholder="Search by name, hostname or IP",
            min_query_length=0,  # list the requester's devices as soon as it opens
            initial_option=initial,
        ),
    )


def _duration_block(profiles: ProfilesConfig, profile: Profile, prefill: Prefill) -> InputBlock:
    options = [
        Option(value=str(int(d.total_seconds())), text=human_duration(d))
        for d in presets_up_to(profiles.max_duration(profile))
    ]
    wanted = str(prefill.duration_seconds) if prefill.duration_seconds else None
    initial = next((o for o in options if o.value == wanted), None)
    return InputBlock(
        block_id=BlockId.DURATION,
        label="Duration",
        element=StaticSelectElement(
            action_id=ActionId.DURATION_SELECT,
            placeholder="How long?",
            options=options,
            initial_option=initial,
        ),
    )


def _approver_option(candidate: ApproverCandidate) -> Option:
    value = approver_value(candidate.email)
    if candidate.name:
        return Option(
            value=value,
            text=clip_plain(candidate.name, OPTION_TEXT),
            description=clip_plain(candidate.email, OPTION_DESCRIPTION),
        )
    return Option(value=value, text=clip_plain(candidate.email, OPTION_TEXT))


def _approver_block(approvers: Sequence[ApproverCandidate]) -> InputBlock:
    if not fits_radio_buttons(len(approvers)):
        return InputBlock(
            block_id=BlockId.APPROVER,
            label="Approver",
            optional=True,
            hint="Leave empty to ask every eligible approver.",
            element=UserSelectElement(
                action_id=ActionId.APPROVER_USER, placeholder="Any eligible approver"
            ),
        )
    anyone = Option(
        value=ANY_APPROVER,
        text="Any eligible approver",
        description="Everyone who may approve is asked; the first answer counts.",
    )
    return InputBlock(
        block_id=BlockId.APPROVER,
        label="Approver",
        element=RadioButtonsElement(
            action_id=ActionId.APPROVER_RADIO,
            options=[anyone, *(_approver_option(a) for a in approvers)],
            initial_option=anyone,
        ),
    )


def _reason_block(profile: Profile, prefill: Prefill) -> InputBlock:
    return InputBlock(
        block_id=BlockId.REASON,
        label="Reason",
        optional=not profile.require_reason,
        element=PlainTextInputElement(
            action_id=ActionId.REASON_INPUT,
            multiline=True,
            max_length=MAX_REASON,
            placeholder="What for? A ticket or incident id helps the approver.",
            initial_value=prefill.reason[:MAX_REASON] or None,
        ),
    )


def _again_note(again_of: str, notes: Sequence[str]) -> ContextBlock:
    """Which request the form was filled in from, and what it could not fill in (plain
    text: nothing in it is read as mrkdwn)."""
    lines = [f"Filled in as request {again_of} was; check it, then press Request."]
    lines += [f"⚠ {note}" for note in notes]
    return ContextBlock(
        block_id=BlockId.AGAIN_NOTE,
        elements=[
            PlainTextObject(text=clip_plain(line, TEXT_OBJECT), emoji=False) for line in lines
        ][:CONTEXT_ELEMENTS],
    )


def request_modal(
    profiles: ProfilesConfig,
    metadata: ModalMetadata,
    *,
    profile: Profile | None = None,
    approvers: Sequence[ApproverCandidate] = (),
    prefill: Prefill | None = None,
    again_of: str | None = None,
    notes: Sequence[str] = (),
) -> View:
    """The request form: only the profile picker until a profile is chosen.

    `approvers` are the eligible approvers the requester may pick (already
    without the requester where self-approval is not allowed). "Request again":
    `prefill` is what is chosen already, `again_of` the ended request it came from,
    `notes` what could not be filled in and why.
    """
    filled = prefill or Prefill()
    blocks: list[Block] = [_profile_block(profiles, profile)]
    if again_of is not None:
        blocks.append(_again_note(again_of, notes))
    if profile is None:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="Choose what you need; the form then asks "
                        "for the device, how long and why."
                    )
                ]
            )
        )
    else:
        blocks += [
            _summary(profiles, profile),
            _device_block(profile, filled),
            _duration_block(profiles, profile, filled),
        ]
        if offers_approver_choice(profile):
            blocks.append(_approver_block(approvers))
        blocks.append(_reason_block(profile, filled))
    return View(
        type="modal",
        callback_id=CallbackId.REQUEST_MODAL,
        title="Request access",
        submit="Request",
        close="Cancel",
        private_metadata=metadata.encode(),
        blocks=blocks,
    )
