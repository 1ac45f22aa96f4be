"""`accessbot replicas [--set N]`: how many replicas each stream and bucket has, and
moving them (R1 -> R3 when a single server becomes a cluster).

Runs as the admin NATS user (NATS_URL, NATS_PASSWORD; NATS_USER defaults to admin):
services may create and inspect streams, not change them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from nats.errors import Error as NatsError

from shared.connection import connect
from shared.contracts.subjects import ACCESS_STREAM
from shared.permissions import ADMIN_USER, SIEM_JS_API
from shared.provisioning import SIEM_COPY, managed_streams, move_replicas
from shared.settings import ServiceSettings

MAX_REPLICAS = 5  # JetStream's limit


def _settings() -> ServiceSettings:
    overrides: dict[str, object] = {}
    if not os.environ.get("NATS_USER"):
        overrides["nats_user"] = ADMIN_USER
    return ServiceSettings.model_validate(overrides)


async def _give_up(exc: Exception) -> None:
    """nats-py's error callback: nothing to report; the connect raises once out of tries."""


async def _run(wanted: int | None) -> int:
    settings = _settings()
    try:
        nc = await connect(
            settings,
            name="replicas",
            allow_reconnect=False,
            # nats-py reads 0 as "no limit" while picking a server: 1 tries each URL twice.
            max_reconnect_attempts=1,
            error_cb=_give_up,  # no "retrying" lines: the connect raises after those tries
        )
    except (OSError, NatsError) as exc:
        print(
            f"accessbot replicas: cannot reach NATS at {settings.nats_url}: {exc}", file=sys.stderr
        )
        return 1
    try:
        js = nc.jetstream()
        if wanted is not None:
            for move in await move_replicas(js, wanted):
                print(f"moved {move}")
        siem = nc.jetstream(prefix=SIEM_JS_API)
        rows = [(name, await js.stream_info(name)) for name in managed_streams()]
        rows.append((SIEM_COPY, await siem.stream_info(ACCESS_STREAM)))
    except (NatsError, TimeoutError) as exc:
        print(
            f"accessbot replicas: NATS refused or did not answer ({type(exc).__name__}: {exc}); "
            f"it needs the admin NATS user (NATS_USER={ADMIN_USER}, its NATS_PASSWORD) and "
            "provisioned streams (start a service once)",
            file=sys.stderr,
        )
        return 1
    finally:
        await nc.close()
    for name, info in rows:
        cluster = info.cluster
        peers: list[str] = []
        if cluster is not None:
            peers = [cluster.leader or "?", *(r.name or "?" for r in cluster.replicas or [])]
        where = f" on {', '.join(peers)}" if peers else ""
        print(f"{name}: R{info.config.num_replicas or 1}{where}")
    return 0


def run(args: argparse.Namespace) -> int:
    """`accessbot replicas`."""
    if args.set is not None and args.set > MAX_REPLICAS:
        print(f"accessbot replicas: --set takes 1 to {MAX_REPLICAS}", file=sys.stderr)
        return 2
    return asyncio.run(_run(args.set))
