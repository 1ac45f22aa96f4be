"""The App Home tab: what one person has and is asked, built from the requests' views.

Pure: the views of the requests in the person's index in, a Block Kit `home` view out.
Four sections, each capped at MAX_ITEMS requests (newest first) and ending "and N more",
so the view stays within Slack's 100 blocks whatever the index holds. The buttons are
the DMs' own (same action ids and values), so intake handles a press from the Home as
one from a DM.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from services.notifier.domain.context import NotifyContext
from services.notifier.domain.formatting import duration, person, slack_date
from services.notifier.domain.message_parts import (
    again_button,
    button,
    device_label,
    line,
    profile_label,
    quote,
)
from services.notifier.domain.request_view import (
    TERMINAL_RANK,
    ExtensionPhase,
    Phase,
    RequestView,
    rank,
)
from services.notifier.domain.requester_message import waiting_for
from shared.block_dicts import as_dict
from shared.slack_ids import ActionId, BlockId, home_item_block
from shared.slack_limits import HOME_BLOCKS, MESSAGE_TEXT, clip_mrkdwn

MAX_ITEMS = 10
"""Requests shown per section: 1 + 4 x (header + 10 x 2 + "and N more") = 89 blocks."""

TITLE = (
    "*Accessbot*: just-in-time access to Tailscale devices. "
    "Your access, your requests and what waits for your decision are below."
)
REQUEST_ACCESS = "Request access"
HOME_REQUEST_VALUE = "home"
NOTHING = {
    BlockId.HOME_ACTIVE: "No active access.",
    BlockId.HOME_PENDING: "No pending requests.",
    BlockId.HOME_DECIDE: "Nothing waits for your decision.",
    BlockId.HOME_HISTORY: "No earlier requests.",
}
HEADERS = {
    BlockId.HOME_ACTIVE: "My active access",
    BlockId.HOME_PENDING: "My pending requests",
    BlockId.HOME_DECIDE: "Waiting for my decision",
    BlockId.HOME_HISTORY: "My recent requests",
}
OUTCOME = {
    Phase.DENIED: ":x: Denied",
    Phase.EXPIRED: ":hourglass: Expired unanswered",
    Phase.CANCELLED: ":heavy_multiplication_x: Cancelled",
    Phase.REJECTED: ":no_entry: Not accepted",
    Phase.FAILED: ":warning: Could not be applied",
    Phase.REVOKED: ":lock: Revoked",
    Phase.ENDED: ":lock: Ended",
}


@dataclass(frozen=True, slots=True)
class _Item:
    """One request in a section: its line and its buttons."""

    request_id: str
    text: str
    buttons: tuple[ButtonElement, ...] = ()


Contexts = Callable[[RequestView], NotifyContext]


def _label(view: RequestView, ctx: NotifyContext) -> str:
    return f"*{profile_label(view, ctx)}* on {device_label(view)}"


def _active(view: RequestView, ctx: NotifyContext) -> _Item:
    until = slack_date(view.grant_expires_at) if view.grant_expires_at else "?"
    rid = view.request_id
    return _Item(
        rid,
        line(f":white_check_mark: {_label(view, ctx)}, until {until}"),
        (
            button("Extend", ActionId.EXTEND, rid, profile_id=view.profile_id, style="primary"),
            button("Revoke", ActionId.REVOKE, rid, style="danger"),
        ),
    )


def _pending(view: RequestView, ctx: NotifyContext) -> _Item:
    rid = view.request_id
    if view.phase is Phase.APPROVED:
        return _Item(rid, line(f":gear: {_label(view, ctx)}: approved, being applied now"))
    who = waiting_for(view.everyone_asked, view.approvals_required)
    expires = f"; expires {slack_date(view.request_expires_at)}" if view.request_expires_at else ""
    text = line(f":hourglass_flowing_sand: {_label(view, ctx)}: waiting for {who}{expires}")
    return _Item(rid, text, (button("Cancel request", ActionId.CANCEL, rid),))


def _decide(view: RequestView, ctx: NotifyContext, extension: bool) -> _Item:
    rid = view.request_id
    who = person(view.requester) if view.requester else "?"
    if extension and (ext := view.latest_extension) is not None:
        more = duration(ext.additional_seconds) if ext.additional_seconds else "more time"
        text = line(f"{who} asks to extend {_label(view, ctx)} by {more}: ", quote(ext.reason))
        ext_id: str | None = ext.extension_id
    else:
        length = duration(view.duration_seconds) if view.duration_seconds else "?"
        expires = (
            f" (expires {slack_date(view.request_expires_at)})" if view.request_expires_at else ""
        )
        text = line(
            f"{who} asks for {_label(view, ctx)} for {length}{expires}: ", quote(view.reason)
        )
        ext_id = None
    return _Item(
        rid,
        text,
        (
            button("Approve", ActionId.APPROVE, rid, extension_id=ext_id, style="primary"),
            button("Deny", ActionId.DENY, rid, extension_id=ext_id, style="danger"),
        ),
    )


def _history(view: RequestView, ctx: NotifyContext) -> _Item:
    when = f" {slack_date(view.ended_at)}" if view.ended_at else ""
    text = line(f"{OUTCOME.get(view.phase, view.phase.value)}{when}: {_label(view, ctx)}")
    again = again_button(view)
    return _Item(view.request_id, text, (again,) if again is not None else ())


def _mine(view: RequestView, email: str) -> bool:
    return view.requester is not None and view.requester.email == email


def _asks_me(view: RequestView, email: str) -> tuple[bool, bool]:
    """(the request waits for my decision, it is about an extension)."""
    ext = view.latest_extension
    if (
        view.phase is Phase.ACTIVE
        and ext is not None
        and ext.phase is ExtensionPhase.PENDING
        and any(p.email == email for p in ext.approvers)
        and not _mine(view, email)
    ):
        return True, True
    if view.phase is not Phase.PENDING or _mine(view, email):
        return False, False
    asked = any(p.email == email for p in view.everyone_asked)
    decided = any(p.email == email for p in view.approved_by)
    return asked and not decided, False


def sections(
    email: str, views: Sequence[RequestView], contexts: Contexts
) -> dict[BlockId, list[_Item]]:
    """Every request of the person's index, sorted into the four sections, newest first."""
    found: dict[BlockId, list[_Item]] = {key: [] for key in HEADERS}
    for view in sorted(views, key=lambda v: v.request_id, reverse=True):
        ctx = contexts(view)
        asks, extension = _asks_me(view, email)
        if asks:
            found[BlockId.HOME_DECIDE].append(_decide(view, ctx, extension))
        if not _mine(view, email):
            continue
        if view.phase is Phase.ACTIVE:
            found[BlockId.HOME_ACTIVE].append(_active(view, ctx))
        elif rank(view.phase) == TERMINAL_RANK:
            found[BlockId.HOME_HISTORY].append(_history(view, ctx))
        else:
            found[BlockId.HOME_PENDING].append(_pending(view, ctx))
    return found


def _section_blocks(key: BlockId, items: list[_Item]) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(block_id=key.value, text=HEADERS[key])]
    if not items:
        note = MarkdownTextObject(text=f"_{NOTHING[key]}_")
        blocks.append(ContextBlock(block_id=f"{key.value}:none", elements=[note]))
        return blocks
    for item in items[:MAX_ITEMS]:
        text = MarkdownTextObject(text=item.text)
        blocks.append(
            SectionBlock(block_id=home_item_block(key, item.request_id, "text"), text=text)
        )
        if item.buttons:
            blocks.append(
                ActionsBlock(
                    block_id=home_item_block(key, item.request_id, "actions"),
                    elements=list(item.buttons),
                )
            )
    if len(items) > MAX_ITEMS:
        more = MarkdownTextObject(text=f"…and {len(items) - MAX_ITEMS} more.")
        blocks.append(ContextBlock(block_id=f"{key.value}:more", elements=[more]))
    return blocks


@dataclass(frozen=True)
class HomeView:
    """The Home tab as views.publish takes it."""

    view: View

    def as_json(self) -> dict[str, Any]:
        """The view as views.publish takes it (and golden files pin it)."""
        return as_dict(self.view)


def home_view(email: str, views: Sequence[RequestView], contexts: Contexts) -> HomeView:
    """The Home tab of the person with `email`, from the views of the requests they touch."""
    top = SectionBlock(
        block_id=BlockId.HOME_TOP.value,
        text=MarkdownTextObject(text=clip_mrkdwn(TITLE, MESSAGE_TEXT)),
        accessory=ButtonElement(
            text=REQUEST_ACCESS,
            action_id=ActionId.HOME_REQUEST.value,
            value=HOME_REQUEST_VALUE,
            style="primary",
        ),
    )
    blocks: list[Block] = [top]
    for key, items in sections(email, views, contexts).items():
        blocks += _section_blocks(key, items)
    if len(blocks) > HOME_BLOCKS:  # cannot happen with MAX_ITEMS: a builder bug
        raise ValueError(f"{len(blocks)} blocks; a Home view holds at most {HOME_BLOCKS}")
    return HomeView(View(type="home", blocks=blocks))
