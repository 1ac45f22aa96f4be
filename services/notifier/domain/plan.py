"""Which Slack messages to post or update for an event: a pure function of the record.

Two kinds of messages:
- status messages (the requester's DM, each approver's copy, each audit channel's
  message) show the request's current state: posted when missing, updated when
  what they should show differs from what they show (by digest), else untouched;
- one-off messages (a thread reply per step, the break-glass alert, a refusal DM)
  belong to one event: posted once, never updated.
A slot names each message in the record, so a redelivered event finds what was
already posted and posts nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.notifier.domain.approver_message import approver_message
from services.notifier.domain.audit_messages import (
    audit_status_message,
    audit_step_message,
    break_glass_alert,
)
from services.notifier.domain.context import NotifyContext
from services.notifier.domain.notices import (
    approver_problem_message,
    channel_problem_message,
    refusal_message,
)
from services.notifier.domain.nudge_messages import escalation_reply, reminder_reply
from services.notifier.domain.record import MessageRef, NotifierRecord
from services.notifier.domain.request_view import ExtensionPhase, Phase, RequestView
from services.notifier.domain.requester_message import requester_message
from services.notifier.domain.slack_message import MessageFormationError, SlackMessage
from shared.contracts.events import (
    ApprovalEscalated,
    ApprovalMode,
    ApprovalReminded,
    DecisionRefused,
    Message,
    Person,
    RequestApproved,
    RevokeRefused,
)

REQUESTER_SLOT = "requester"


def approver_slot(approver: Person, extension_id: str | None = None) -> str:
    """An approver's copy of the request (or of one extension)."""
    base = f"approver:{approver.email}"
    return f"{base}:{extension_id}" if extension_id else base


def audit_slot(channel: str) -> str:
    """A channel's status message about the request (the thread's parent)."""
    return f"audit:{channel}"


def step_slot(channel: str, event_id: str) -> str:
    """A thread reply recording one event in a channel."""
    return f"audit:{channel}:step:{event_id}"


def alert_slot(channel: str) -> str:
    """The break-glass alert in a channel."""
    return f"audit:{channel}:alert"


def refusal_slot(event_id: str) -> str:
    """The DM explaining one refused click."""
    return f"refusal:{event_id}"


def reminder_slot(approver: Person, event_id: str) -> str:
    """The thread reply reminding one approver (under their copy)."""
    return f"reminder:{approver.email}:{event_id}"


def escalation_slot(event_id: str) -> str:
    """The thread reply telling the requester their request escalated (under their DM)."""
    return f"escalation:{event_id}"


def notice_slot(target: str) -> str:
    """The DM telling the requester a target could not be posted to."""
    return f"notice:{target}"


@dataclass(frozen=True, slots=True)
class ToChannel:
    """A channel, by id."""

    channel_id: str

    @property
    def target(self) -> str:
        """Key under which Slack's refusal of this destination is remembered."""
        return f"channel:{self.channel_id}"


@dataclass(frozen=True, slots=True)
class ToPerson:
    """A person's DM with the bot (opened from their email or Slack id)."""

    person: Person

    @property
    def target(self) -> str:
        """Key under which Slack's refusal of this destination is remembered."""
        return f"user:{self.person.email}"


Destination = ToChannel | ToPerson


@dataclass(frozen=True, slots=True)
class Post:
    """Post a new message into a slot (a thread reply when `thread_slot` is set)."""

    slot: str
    to: Destination
    message: SlackMessage
    thread_slot: str | None = None


@dataclass(frozen=True, slots=True)
class Update:
    """Replace what a posted message shows."""

    slot: str
    to: Destination
    ref: MessageRef
    message: SlackMessage


Operation = Post | Update


@dataclass(frozen=True, slots=True)
class _Status:
    slot: str
    to: Destination
    message: SlackMessage
    may_post: bool = (
        True  # False: only update a copy that exists (e.g. approver copies once decided)
    )


def _status_messages(view: RequestView, ctx: NotifyContext) -> list[_Status]:
    wanted: list[_Status] = []
    if view.requester is not None:
        wanted.append(
            _Status(REQUESTER_SLOT, ToPerson(view.requester), requester_message(view, ctx))
        )
    # Every approver's copy (and every channel's status message) shows the same thing:
    # build it once, so its blocks are serialised and validated once.
    request_open = view.phase in (Phase.SUBMITTED, Phase.PENDING)
    if view.everyone_asked:
        # Each variant is built once (its blocks serialised and validated once): an
        # approver whose approval counted while more are needed sees that, not buttons;
        # a fallback approver asked after the reminders sees no reminder line.
        voted = {p.email for p in view.approvals}
        variants: dict[tuple[bool, bool], SlackMessage] = {}
        for approver in view.everyone_asked:
            key = (approver.email in voted, view.was_reminded(approver))
            if key not in variants:
                variants[key] = approver_message(view, ctx, counted=key[0], reminded=key[1])
            slot = approver_slot(approver)
            wanted.append(_Status(slot, ToPerson(approver), variants[key], request_open))
    for ext_id, ext in sorted(view.extensions.items()):
        ext_open = ext.phase is ExtensionPhase.PENDING and view.phase is Phase.ACTIVE
        if ext.approvers:
            message = approver_message(view, ctx, ext)
            voted = {p.email for p in ext.approvals}
            counted = approver_message(view, ctx, ext, counted=True) if voted else message
            for approver in ext.approvers:
                slot = approver_slot(approver, ext_id)
                mine = counted if approver.email in voted else message
                wanted.append(_Status(slot, ToPerson(approver), mine, ext_open))
    if ctx.channels:
        message = audit_status_message(view, ctx)
        wanted += [_Status(audit_slot(c), ToChannel(c), message) for c in ctx.channels]
    return wanted


def _one_off_messages(
    view: RequestView, event: Message, event_id: str, ctx: NotifyContext
) -> list[Post]:
    posts: list[Post] = []
    step = audit_step_message(event, view)
    if step is not None:
        posts += [
            Post(step_slot(c, event_id), ToChannel(c), step, thread_slot=audit_slot(c))
            for c in ctx.channels
        ]
    alert = break_glass_alert(view, ctx)
    if (
        alert is not None
        and isinstance(event, RequestApproved)
        and event.mode is ApprovalMode.BREAK_GLASS
    ):
        posts += [Post(alert_slot(c), ToChannel(c), alert) for c in ctx.channels]
    if isinstance(event, ApprovalReminded) and view.phase is Phase.PENDING:
        reply = reminder_reply(event, view, ctx)
        posts += [
            Post(reminder_slot(a, event_id), ToPerson(a), reply, thread_slot=approver_slot(a))
            for a in event.approvers
        ]
    if isinstance(event, ApprovalEscalated) and view.phase is Phase.PENDING and view.requester:
        reply = escalation_reply(event, view, ctx)
        requester = ToPerson(view.requester)
        posts.append(Post(escalation_slot(event_id), requester, reply, thread_slot=REQUESTER_SLOT))
    if isinstance(event, DecisionRefused | RevokeRefused):
        message = refusal_message(event, view, ctx)
        posts.append(Post(refusal_slot(event_id), ToPerson(event.actor), message))
    return posts


def plan(
    record: NotifierRecord, event: Message, event_id: str, ctx: NotifyContext
) -> list[Operation]:
    """What to do in Slack for `event`, given the record (its view already folded).

    Status messages come first, so a thread reply finds its parent posted.
    """
    ops: list[Operation] = []
    for status in _status_messages(record.view, ctx):
        if status.to.target in record.unreachable:
            continue
        ref = record.messages.get(status.slot)
        if ref is None:
            if status.may_post:
                ops.append(Post(status.slot, status.to, status.message))
        elif not _shows(ref, status.message):
            ops.append(Update(status.slot, status.to, ref, status.message))
    ops += [
        post
        for post in _one_off_messages(record.view, event, event_id, ctx)
        if post.to.target not in record.unreachable and post.slot not in record.messages
    ]
    return ops


def _shows(ref: MessageRef, message: SlackMessage) -> bool:
    """Whether the posted message already shows `message`."""
    try:
        return ref.digest == message.digest()
    except MessageFormationError:
        return False  # it cannot be built: the update attempt reports it as rejected


def plan_problem_notice(record: NotifierRecord, failed: Destination, error: str) -> list[Post]:
    """Tell the requester, once, that a destination refused our messages for good."""
    requester = record.view.requester
    if requester is None:
        return []
    to = ToPerson(requester)
    slot = notice_slot(failed.target)
    if to.target in record.unreachable or failed.target == to.target or slot in record.messages:
        return []
    if isinstance(failed, ToChannel):
        message = channel_problem_message(failed.channel_id, error, record.view)
    else:
        message = approver_problem_message(failed.person.email, error, record.view)
    return [Post(slot, to, message)]
