"""One-off DMs: a refused click explained to who clicked, and a delivery problem
explained to the requester.

A refusal is a DM to the person who pressed the button, not an ephemeral message:
the events do not say where the button was pressed, `chat.postEphemeral` needs a
channel both the bot and that person are in (and an ephemeral message vanishes on
reload), while the bot's DM with a person always exists and keeps the explanation.
"""

from __future__ import annotations

from services.notifier.domain.context import NotifyContext
from services.notifier.domain.formatting import name
from services.notifier.domain.message_parts import (
    line,
    profile_label,
    request_id_context,
    status_section,
)
from services.notifier.domain.request_view import RequestView
from services.notifier.domain.slack_message import SlackMessage
from shared.contracts.events import DecisionRefused, RevokeRefused
from shared.slack_limits import user_text
from shared.wording import refusal_text

_ACTION_WORDS = {
    "approve": "approval",
    "deny": "denial",
    "cancel": "cancellation",
    "extend": "extension request",
}


def refusal_explanation(event: DecisionRefused | RevokeRefused) -> str:
    """Why the click did not count, worded here from the event's facts; an older event
    without facts brings its own sentence."""
    if event.facts is None:
        return event.message
    if isinstance(event, RevokeRefused):
        return refusal_text(event.facts, "revoke")
    about_extension = event.extension_id is not None
    return refusal_text(event.facts, event.action, about_extension=about_extension)


def refusal_message(
    event: DecisionRefused | RevokeRefused, view: RequestView, ctx: NotifyContext
) -> SlackMessage:
    """Tells the person who clicked why their click did not count."""
    action = "revocation" if isinstance(event, RevokeRefused) else _ACTION_WORDS[event.action]
    about = f" on the *{profile_label(view, ctx)}* request" if view.profile_id else ""
    why = user_text(refusal_explanation(event))
    text = line(f":no_entry_sign: Your {action}{about} did not count: ", why)
    blocks = (status_section(text), request_id_context(event.request_id))
    return SlackMessage(text=text, blocks=blocks)


def channel_problem_message(channel: str, error: str, view: RequestView) -> SlackMessage:
    """Tells the requester an audit channel could not be posted to; the request goes on."""
    text = (
        f":warning: I could not post about your request in <#{channel}> "
        f"(Slack said `{name(error)}`). Your request is not affected, but that audit "
        "channel is missing it: please tell an Accessbot admin."
    )
    return _notice(text, view)


def approver_problem_message(who: str, error: str, view: RequestView) -> SlackMessage:
    """Tells the requester an approver could not be reached in Slack."""
    text = (
        f":warning: I could not reach {name(who)} in Slack to ask for their approval "
        f"(Slack said `{name(error)}`). Any other approver asked can still decide."
    )
    return _notice(text, view)


def _notice(text: str, view: RequestView) -> SlackMessage:
    blocks = (status_section(text), request_id_context(view.request_id))
    return SlackMessage(text=text, blocks=blocks)
