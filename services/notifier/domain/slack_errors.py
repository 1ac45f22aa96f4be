"""What a Slack Web API error means for the notifier: skip, re-post, or retry later."""

from __future__ import annotations

from enum import StrEnum


class Failure(StrEnum):
    """How to react to a Slack error."""

    UNREACHABLE = "unreachable"  # this channel or person refuses us; retrying cannot help
    MESSAGE_GONE = "message_gone"  # the message to update was deleted: post it again
    REJECTED = "rejected"  # Slack refuses this message itself (a bug of ours): log, go on
    TRANSIENT = "transient"  # may succeed later: raise, so the event is redelivered


_UNREACHABLE = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "users_not_found",
        "user_not_found",
        "user_not_visible",
        "user_disabled",
        "cannot_dm_bot",
        "messages_tab_disabled",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "team_access_not_granted",
    }
)
_GONE = frozenset({"message_not_found"})
_REJECTED = frozenset(
    {
        "msg_too_long",
        "no_text",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_arguments",
        "invalid_attachments",
        "too_many_attachments",
        "cant_update_message",
        "edit_window_closed",
        "thread_reply_not_found",
        "not_enabled",  # views.publish: the app's Home tab is switched off
        "view_too_large",  # the thread parent was deleted; replying again cannot help
    }
)


_MEANING = {
    "user_disabled": "the person's Slack account is deactivated",
    "users_not_found": "no active Slack account has this email",
    "user_not_found": "Slack knows no such user",
    "channel_not_found": "no such channel (or the bot cannot see it)",
    "not_in_channel": "the bot is not a member of this private channel",
    "is_archived": "the channel is archived",
}


def meaning(error: str) -> str:
    """What an error means for whoever reads the log."""
    return _MEANING.get(error, "Slack refuses to deliver here")


def classify(error: str) -> Failure:
    """Everything not known to be permanent is retried: rate limits past the SDK's own
    retries, Slack outages, and also auth errors (`invalid_auth`, `missing_scope`),
    because the events must wait for an operator to fix the token, not be dropped.
    """
    if error in _UNREACHABLE:
        return Failure.UNREACHABLE
    if error in _GONE:
        return Failure.MESSAGE_GONE
    if error in _REJECTED:
        return Failure.REJECTED
    return Failure.TRANSIENT
