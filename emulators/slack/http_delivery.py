"""HTTP mode: sign and POST interactions to the app's Request URL, once, like Slack."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp

from emulators.slack.inspection import AckRecord, UserErrorReason
from emulators.slack.signing import RequestSigner
from emulators.slack.state import EmulatorState

USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


class HttpDelivery:
    def __init__(self, state: EmulatorState, signer: RequestSigner) -> None:
        self._state = state
        self._signer = signer
        self.url: str | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def deliver(
        self, payload: dict[str, Any], forge: str | None = None, *, kind: str = "interactive"
    ) -> AckRecord:
        """POST `payload=<json>` once; no 2xx within ack_timeout means the person saw an
        error. Slack does not retry interactions (X-Slack-Retry-Num is an Events API
        header), and a forged delivery is sent to see the app refuse it. An Events API
        callback (`kind="events_api"`) is POSTed as a JSON body, as Slack sends events;
        the emulator sends it once, without retries."""
        if self.url is None or self._session is None:
            raise RuntimeError("no HTTP app URL configured (set_http_app_url) or not started")
        settings = self._state.settings
        payload_type = str(payload.get("type"))
        if kind == "events_api":
            body = json.dumps(payload)
            content_type = "application/json"
            payload_type = str((payload.get("event") or {}).get("type"))
        else:
            body = urlencode({"payload": json.dumps(payload)})
            content_type = "application/x-www-form-urlencoded"
        delivery_id = self._state.ids.envelope_id()
        started = time.monotonic()
        headers = {
            "Content-Type": content_type,
            "User-Agent": USER_AGENT,
            **self._signer.headers(body, forge=forge),
        }
        self._state.recorder.event(
            "delivery",
            transport="http",
            envelope_id=delivery_id,
            payload_type=payload_type,
            forged=forge,
        )
        status: int | None = None
        failure: UserErrorReason | None = None
        text = ""
        try:
            async with self._session.post(
                self.url,
                data=body.encode(),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=settings.ack_timeout),
            ) as response:
                status = response.status
                text = await response.text()
        except TimeoutError:
            failure = "timeout"
        except aiohttp.ClientError:
            failure = "connection_failed"
        else:
            if not 200 <= status < 300:
                failure = "http_error"
        return AckRecord(
            envelope_id=delivery_id,
            payload_type=payload_type,
            ack=None if failure else self._parse_ack(text, payload_type),
            acked=failure is None,
            latency=None if failure else time.monotonic() - started,
            transport="http",
            http_status=status,
            time=time.time(),
            forged=forge,
            user_error=failure,
        )

    def _parse_ack(self, text: str, payload_type: str) -> dict[str, Any] | None:
        if not text.strip():
            return None
        try:
            ack = json.loads(text)
        except json.JSONDecodeError:
            ack = None
        if not isinstance(ack, dict):
            self._state.recorder.violation(
                "ack_body_not_json_object", f"{payload_type}: {text[:200]!r}"
            )
            return None
        return ack
