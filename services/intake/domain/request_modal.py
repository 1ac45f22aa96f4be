"""The request modal (Block Kit, pure): a profile picker, then that profile's fields.

Up to 100 profiles (a static select's limit) are listed in the picker; with more, the
picker searches them (an external select answered from profiles.yaml through
block_suggestion), so every profile stays reachable and none is silently left out.

Golden JSON tests (tests/intake/golden/) pin what users see.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    ExternalDataSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from services.intake.domain.approvers import (
    MAX_SHOWN_APPROVERS,
    ApproverCandidate,
    approver_value,
    fits_radio_buttons,
    local_time,
    matching,
    offers_approver_choice,
)
from services.intake.domain.durations_text import human_duration
from services.intake.domain.metadata import ModalMetadata
from shared.durations import presets_up_to
from shared.profiles import DeviceScope, Profile, ProfilesConfig
from shared.slack_ids import ANY_APPROVER, ActionId, BlockId, CallbackId
from shared.slack_limits import (
    MAX_REASON,
    NAME_TEXT,
    OPTION_DESCRIPTION,
    OPTION_TEXT,
    PEOPLE_TEXT,
    SELECT_OPTIONS,
    clip_mrkdwn,
    clip_plain,
    escape_mrkdwn,
    listing,
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


def _device_block(profile: Profile) -> InputBlock:
    own = profile.devices is DeviceScope.OWN
    return InputBlock(
        block_id=BlockId.DEVICE,
        label="Device",
        hint="Only your own devices qualify." if own else None,
        element=ExternalDataSelectElement(
            action_id=ActionId.DEVICE_SELECT,
            placeholder="Search by name, hostname or IP",
            min_query_length=0,  # list the requester's devices as soon as it opens
        ),
    )


def _duration_block(profiles: ProfilesConfig, profile: Profile) -> InputBlock:
    options = [
        Option(value=str(int(d.total_seconds())), text=human_duration(d))
        for d in presets_up_to(profiles.max_duration(profile))
    ]
    return InputBlock(
        block_id=BlockId.DURATION,
        label="Duration",
        element=StaticSelectElement(
            action_id=ActionId.DURATION_SELECT, placeholder="How long?", options=options
        ),
    )


def _approver_option(candidate: ApproverCandidate, now: datetime | None) -> Option:
    value = approver_value(candidate.email)
    clock = local_time(candidate.tz_offset, now) if now is not None else None
    about = f"{clock} local time · {candidate.email}" if clock else candidate.email
    if candidate.name:
        return Option(
            value=value,
            text=clip_plain(candidate.name, OPTION_TEXT),
            description=clip_plain(about, OPTION_DESCRIPTION),
        )
    if clock:
        return Option(
            value=value,
            text=clip_plain(candidate.email, OPTION_TEXT),
            description=clip_plain(f"{clock} local time", OPTION_DESCRIPTION),
        )
    return Option(value=value, text=clip_plain(candidate.email, OPTION_TEXT))


def _approver_block(approvers: Sequence[ApproverCandidate], now: datetime | None) -> InputBlock:
    if not fits_radio_buttons(len(approvers)):
        # Never the whole workspace (a users_select): only the eligible, searched by
        # intake through block_suggestion (see `approver_suggestions`).
        return InputBlock(
            block_id=BlockId.APPROVER,
            label="Approver",
            optional=True,
            hint="Type a name or email to find an eligible approver, "
            "or leave it empty to ask them all.",
            element=ExternalDataSelectElement(
                action_id=ActionId.APPROVER_SELECT,
                placeholder="Any eligible approver",
                min_query_length=0,  # list the first ones as soon as it opens
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
            options=[anyone, *(_approver_option(a, now) for a in approvers)],
            initial_option=anyone,
        ),
    )


def approver_suggestions(
    candidates: Sequence[ApproverCandidate], query: str, now: datetime
) -> dict[str, Any]:
    """The block_suggestion answer of the approver search: the first 100 eligible that
    match every typed word in their name or email, with their local time."""
    found = matching(candidates, query)[:SELECT_OPTIONS]
    return {"options": [_approver_option(c, now).to_dict() for c in found]}


def _person(candidate: ApproverCandidate, now: datetime | None) -> str:
    who = (
        f"<@{candidate.slack_user_id}>"
        if candidate.slack_user_id
        else clip_mrkdwn(escape_mrkdwn(candidate.name or candidate.email), NAME_TEXT)
    )
    clock = local_time(candidate.tz_offset, now) if now is not None else None
    return f"{who} ({clock})" if clock else who


def _who_approves_block(
    approvers: Sequence[ApproverCandidate], now: datetime | None, unread_groups: Sequence[str]
) -> Block:
    """Who will be asked, where the form offers no choice: at most 10 named."""
    if not approvers:
        text = "*Who can approve:* nobody who may approve is active in Slack right now."
    else:
        names = [_person(a, now) for a in approvers[:MAX_SHOWN_APPROVERS]]
        rest = len(approvers) - len(names)
        line = listing([*names, f"{rest} more"]) if rest else listing(names)
        if len(line) > PEOPLE_TEXT:  # listing's own shortening counts people correctly
            line = listing([_person(a, now) for a in approvers])
        timed = now is not None and any(a.tz_offset is not None for a in approvers)
        text = (
            f"*Who can approve* (local time now): {line}" if timed else f"*Who can approve:* {line}"
        )
    if unread_groups:
        groups = listing([f"<!subteam^{g}>" for g in unread_groups])
        text += f"\nThe members of {groups} could not be read from Slack just now."
    return ContextBlock(block_id=BlockId.APPROVERS_SHOWN, elements=[MarkdownTextObject(text=text)])


def _reason_block(profile: Profile) -> InputBlock:
    return InputBlock(
        block_id=BlockId.REASON,
        label="Reason",
        optional=not profile.require_reason,
        element=PlainTextInputElement(
            action_id=ActionId.REASON_INPUT,
            multiline=True,
            max_length=MAX_REASON,
            placeholder="What for? A ticket or incident id helps the approver.",
        ),
    )


def request_modal(
    profiles: ProfilesConfig,
    metadata: ModalMetadata,
    *,
    profile: Profile | None = None,
    approvers: Sequence[ApproverCandidate] = (),
    now: datetime | None = None,
    unread_groups: Sequence[str] = (),
) -> View:
    """The request form: only the profile picker until a profile is chosen.

    `approvers` are the eligible approvers (already without the requester where
    self-approval is not allowed, and without deactivated people): the requester picks
    one where the profile offers a choice, else they are named. Their local times are
    rendered for `now` (None: not shown). `unread_groups`: approver groups Slack could
    not resolve just now (named, their members unknown).
    """
    blocks: list[Block] = [_profile_block(profiles, profile)]
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
            _device_block(profile),
            _duration_block(profiles, profile),
        ]
        if offers_approver_choice(profile):
            blocks.append(_approver_block(approvers, now))
        elif not profile.break_glass:
            blocks.append(_who_approves_block(approvers, now, unread_groups))
        blocks.append(_reason_block(profile))
    return View(
        type="modal",
        callback_id=CallbackId.REQUEST_MODAL,
        title="Request access",
        submit="Request",
        close="Cancel",
        private_metadata=metadata.encode(),
        blocks=blocks,
    )
