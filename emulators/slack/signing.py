"""Slack's v0 request signing, as Slack signs HTTP deliveries to an app."""

from __future__ import annotations

import hashlib
import hmac
import time

STALE_AGE_SECONDS = 6 * 60  # past the 5-minute window verifiers accept


class RequestSigner:
    """`X-Slack-Signature` = "v0=" + hex HMAC-SHA256(secret, "v0:{timestamp}:{body}")."""

    def __init__(self, signing_secret: str) -> None:
        self._secret = signing_secret.encode()

    def __repr__(self) -> str:  # never show the secret
        return "RequestSigner(<secret>)"

    def produce_signature(self, body: str | bytes, timestamp: str | int) -> str:
        raw = body.encode() if isinstance(body, str) else body
        base = b"v0:" + str(timestamp).encode() + b":" + raw
        return "v0=" + hmac.new(self._secret, base, hashlib.sha256).hexdigest()

    def headers(self, body: str | bytes, *, forge: str | None = None) -> dict[str, str]:
        """Signature headers; `forge` = "bad_signature" or "stale_timestamp" breaks them."""
        timestamp = int(time.time())
        if forge == "stale_timestamp":
            timestamp -= STALE_AGE_SECONDS
        signature = self.produce_signature(body, timestamp)
        if forge == "bad_signature":
            # A well-formed signature made with some other secret.
            signature = (
                "v0=" + hmac.new(b"not-the-secret", signature.encode(), "sha256").hexdigest()
            )
        return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}
