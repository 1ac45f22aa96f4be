"""Messages per channel, their timestamps, and the response_urls handed to the app."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from emulators.slack.errors import ApiError
from emulators.slack.inspection import PostedMessage, Recorder

RESPONSE_URL_USES = 5  # Slack: up to 5 times within 30 minutes
RESPONSE_URL_TTL = 30 * 60.0


@dataclass
class ResponseUrl:
    channel: str
    message_ts: str | None
    user_id: str
    issued_at: float
    uses_left: int = RESPONSE_URL_USES


class MessageStore:
    def __init__(self, recorder: Recorder, clock: Callable[[], float] = time.time) -> None:
        self._recorder = recorder
        self._clock = clock
        self._last_ts = 0.0
        self.by_channel: dict[str, list[PostedMessage]] = {}
        self._response_urls: dict[str, ResponseUrl] = {}

    def new_ts(self) -> str:
        """Slack's `seconds.microseconds` ts, strictly increasing so it orders messages."""
        now = max(self._clock(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"

    def add(self, message: PostedMessage) -> PostedMessage:
        self.by_channel.setdefault(message.channel, []).append(message)
        self._recorder.event(
            "message_posted",
            channel=message.channel,
            ts=message.ts,
            user=message.user,
            text=message.text,
            thread_ts=message.thread_ts,
            is_ephemeral=message.is_ephemeral,
            for_user=message.for_user,
            via=message.via,
        )
        return message

    def find(self, channel: str, ts: str) -> PostedMessage | None:
        for message in self.by_channel.get(channel, []):
            if message.ts == ts and not message.deleted:
                return message
        return None

    def all(self) -> list[PostedMessage]:
        return [m for messages in self.by_channel.values() for m in messages]

    def issue_response_url(self, channel: str, message_ts: str | None, user_id: str) -> str:
        token = secrets.token_urlsafe(16)
        self._response_urls[token] = ResponseUrl(channel, message_ts, user_id, time.monotonic())
        return token

    def use_response_url(self, token: str) -> ResponseUrl:
        target = self._response_urls.get(token)
        if target is None or time.monotonic() - target.issued_at > RESPONSE_URL_TTL:
            raise ApiError("expired_url")
        if target.uses_left <= 0:
            raise ApiError("used_url")
        target.uses_left -= 1
        return target
