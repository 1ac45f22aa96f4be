"""The dead-letter list for the console (read only, as the admin NATS user: only the admin
may read DEADLETTER; replaying stays `accessbot deadletter replay`)."""

from __future__ import annotations

from typing import Any

import nats
from nats.errors import Error as NatsError

from emulators.console.events import NatsLogin
from shared.deadletter import clip_error
from shared.deadlettering import pending_records

MAX_SHOWN = 50  # the newest; the rest are counted
ERROR_CHARS = 200


async def dead_letters(login: NatsLogin) -> dict[str, Any]:
    """{"records": [...newest first], "more": N} or {"error": one line}."""
    try:
        nc = await nats.connect(
            servers=[login.url],
            user=login.user,
            password=login.password.get_secret_value(),
            name="accessbot-console-deadletters",
            max_reconnect_attempts=0,
        )
    except (NatsError, OSError) as exc:
        return {"error": f"cannot read dead letters: {exc}"}
    try:
        stored = await pending_records(nc.jetstream())
    except (NatsError, OSError) as exc:
        return {"error": f"cannot read dead letters: {exc}"}
    finally:
        await nc.close()
    records = [s.record for s in stored][::-1]
    return {
        "records": [
            {
                "event_id": r.event_id or f"{r.consumer}:{r.stream_sequence}",
                "consumer": r.consumer,
                "subject": r.subject,
                "request_id": r.request_id,
                "deliveries": r.deliveries,
                "last_error": clip_error(" ".join(r.last_error.split()), ERROR_CHARS),
            }
            for r in records[:MAX_SHOWN]
        ],
        "more": max(0, len(records) - MAX_SHOWN),
    }
