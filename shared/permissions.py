"""The one permission matrix: which NATS user may publish and subscribe where.

It follows DESIGN.md's tables (who publishes which subject, who owns which
bucket, who consumes what) and renders the nats-server `authorization` block
used by both `deploy/nats/nats.conf` and the embedded dev server.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from shared.consumers import (
    CONSUMERS,
    ConsumerSpec,
    advisory_consumer,
    consumers_of,
    deadletter_sources,
)
from shared.subjects import (
    ACCESS_STREAM,
    DEADLETTER_STREAM,
    TIMERS_STREAM,
    Bucket,
    Subject,
    TimerPurpose,
    deadletter_records_of,
)

SERVICES: tuple[str, ...] = ("intake", "approvals", "grants", "notifier")
SIEM_USER = "siem"
ADMIN_USER = "admin"
USERS: tuple[str, ...] = (*SERVICES, SIEM_USER, ADMIN_USER)

PUBLISHES: dict[str, tuple[Subject, ...]] = {
    "intake": (
        Subject.REQUEST_SUBMITTED,
        Subject.DECISION_SUBMITTED,
        Subject.REVOKE_REQUESTED,
        Subject.EXTEND_SUBMITTED,
        Subject.CANCEL_REQUESTED,
    ),
    "approvals": (
        Subject.APPROVAL_REQUESTED,
        Subject.REQUEST_APPROVED,
        Subject.REQUEST_DENIED,
        Subject.REQUEST_EXPIRED,
        Subject.REQUEST_CANCELLED,
        Subject.REQUEST_REJECTED,
        Subject.DECISION_REFUSED,
        Subject.EXTENSION_APPROVED,
        Subject.EXTENSION_DENIED,
    ),
    "grants": (
        Subject.GRANT_APPLIED,
        Subject.GRANT_FAILED,
        Subject.GRANT_EXTENDED,
        Subject.GRANT_REVOKED,
        Subject.GRANT_EXPIRED,
        Subject.REVOKE_REFUSED,
    ),
    "notifier": (),
}

TIMERS_OWNED: dict[str, tuple[TimerPurpose, ...]] = {
    "approvals": (TimerPurpose.REQUEST_EXPIRY,),
    "grants": (TimerPurpose.GRANT_EXPIRY,),
}

BUCKET_OWNER: dict[Bucket, str] = {
    Bucket.REQUESTS: "approvals",
    Bucket.GRANTS: "grants",
    Bucket.DEVICES: "grants",
    Bucket.SLACK_MESSAGES: "notifier",
}

# Buckets a service reads without owning them (DESIGN.md: intake watches `devices`;
# approvals snapshots the device from it).
BUCKET_READERS: dict[Bucket, tuple[str, ...]] = {
    Bucket.DEVICES: ("intake", "approvals"),
}

JS_API = "$JS.API"


@dataclass(frozen=True)
class Permissions:
    """Allowed publish and subscribe subjects of one user."""

    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    allow_responses: bool = field(default=False)
    # Carved out of `publish` (nats-server applies deny over allow).
    publish_deny: tuple[str, ...] = ()


def inbox_prefix(user: str) -> str:
    """Each user gets its own inbox namespace so nobody reads another's replies."""
    return f"_INBOX_{user}"


def _provisioning() -> list[str]:
    """Every service provisions streams and buckets at start (idempotent)."""
    streams = [
        ACCESS_STREAM,
        TIMERS_STREAM,
        DEADLETTER_STREAM,
        *(f"KV_{b.value}" for b in Bucket),
    ]
    subjects = [f"{JS_API}.INFO"]
    for s in streams:
        subjects += [f"{JS_API}.STREAM.INFO.{s}", f"{JS_API}.STREAM.CREATE.{s}"]
    return subjects


def _consumer_ops(spec: ConsumerSpec) -> list[str]:
    s, d = spec.stream, spec.durable
    return [
        f"{JS_API}.CONSUMER.CREATE.{s}.{d}",
        f"{JS_API}.CONSUMER.CREATE.{s}.{d}.>",
        f"{JS_API}.CONSUMER.DURABLE.CREATE.{s}.{d}",
        f"{JS_API}.CONSUMER.INFO.{s}.{d}",
        f"{JS_API}.CONSUMER.MSG.NEXT.{s}.{d}",
        f"$JS.ACK.{s}.{d}.>",
    ]


def _kv_read(bucket: Bucket) -> list[str]:
    # No consumers: a create request names its delivery subject in the body, where
    # permissions cannot see it, so any consumer could push into another user's inbox.
    # Buckets are read with (batched) direct gets instead (shared.kv_reading).
    stream = f"KV_{bucket.value}"
    return [
        f"{JS_API}.STREAM.MSG.GET.{stream}",
        f"{JS_API}.DIRECT.GET.{stream}",
        f"{JS_API}.DIRECT.GET.{stream}.>",
    ]


def _kv_write(bucket: Bucket) -> list[str]:
    return [f"$KV.{bucket.value}.>", f"{JS_API}.STREAM.PURGE.KV_{bucket.value}"]


def _deadlettering(service: str) -> list[str]:
    """Recording dead letters of the service's own consumers (and consuming their replays
    and JetStream's advisories). Only the admin publishes replays."""
    own = consumers_of(service)
    if not own:
        return []
    pub = [Subject.DELIVERY_DEADLETTERED.value]
    pub += [deadletter_records_of(spec.durable) for spec in own]
    # The message a consumer gave up on is read back by sequence to keep it in the record.
    pub += [f"{JS_API}.STREAM.MSG.GET.{s}" for s in dict.fromkeys(c.stream for c in own)]
    pub += [f"{JS_API}.STREAM.MSG.GET.{DEADLETTER_STREAM}"]
    for spec in [*deadletter_sources(service), advisory_consumer(service)]:
        if spec.stream == DEADLETTER_STREAM:
            pub += _consumer_ops(spec)
    return pub


def publishers_of(subject: Subject) -> list[str]:
    """The services that may publish `subject` (any consumer's may announce a dead letter)."""
    if subject is Subject.DELIVERY_DEADLETTERED:
        return [svc for svc in SERVICES if consumers_of(svc)]
    return [svc for svc in SERVICES if subject in PUBLISHES[svc]]


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def service_permissions(service: str) -> Permissions:
    """The permissions of one of the four services."""
    pub: list[str] = [s.value for s in PUBLISHES[service]]
    pub += [f"timers.schedule.{p.value}.*" for p in TIMERS_OWNED.get(service, ())]
    pub += _provisioning()
    for spec in CONSUMERS:
        if spec.service == service:
            pub += _consumer_ops(spec)
    for bucket, owner in BUCKET_OWNER.items():
        if owner == service:
            pub += _kv_write(bucket) + _kv_read(bucket)
        elif service in BUCKET_READERS.get(bucket, ()):
            pub += _kv_read(bucket)
    pub += _deadlettering(service)
    return Permissions(publish=_unique(pub), subscribe=(f"{inbox_prefix(service)}.>",))


def siem_permissions() -> Permissions:
    """Read-only: stored ACCESS messages by sequence (`STREAM.MSG.GET`), nothing else.

    No consumers at all: a consumer-create request carries its delivery subject in the
    body, out of reach of permissions, so the siem user could have the server push
    ACCESS into any other user's inbox (and the unnamed endpoint takes the consumer's
    name from the body too, which would let it redefine a service's durable).
    """
    s = ACCESS_STREAM
    pub = [
        f"{JS_API}.INFO",
        f"{JS_API}.STREAM.INFO.{s}",
        f"{JS_API}.STREAM.MSG.GET.{s}",
    ]
    return Permissions(publish=tuple(pub), subscribe=(f"{inbox_prefix(SIEM_USER)}.>",))


def admin_permissions() -> Permissions:
    """Operators and `accessbot dev` provisioning: everything."""
    return Permissions(publish=(">",), subscribe=(">",))


def matrix() -> dict[str, Permissions]:
    """User -> permissions, for every NATS user Accessbot defines."""
    result = {svc: service_permissions(svc) for svc in SERVICES}
    result[SIEM_USER] = siem_permissions()
    result[ADMIN_USER] = admin_permissions()
    return result


def password_env_var(user: str) -> str:
    """The environment variable that holds a user's NATS password in deploy/nats.conf."""
    return f"ACCESSBOT_NATS_{user.upper()}_PASSWORD"


def _q(value: str) -> str:
    return json.dumps(value)


def render_authorization(passwords: Mapping[str, str | None]) -> str:
    """The `authorization { users = [...] }` block.

    A password of None renders a `$ENV_VAR` reference that nats-server resolves from
    its environment at start (deploy); a string renders literally (embedded dev server).
    """
    lines = ["authorization {", "  users = ["]
    for user, perms in matrix().items():
        secret = passwords.get(user)
        pw = _q(secret) if secret is not None else f"${password_env_var(user)}"
        lines.append(f"    {{user: {_q(user)}, password: {pw}, permissions: {{")
        lines.append("      publish: {allow: [")
        lines += [f"        {_q(s)}," for s in perms.publish]
        if perms.publish_deny:
            lines.append("      ], deny: [")
            lines += [f"        {_q(s)}," for s in perms.publish_deny]
        lines.append("      ]}")
        lines.append("      subscribe: {allow: [")
        lines += [f"        {_q(s)}," for s in perms.subscribe]
        lines.append("      ]}")
        lines.append("    }}")
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def render_server_config(
    *,
    host: str,
    port: int,
    store_dir: str,
    passwords: Mapping[str, str | None],
    http_port: int | None = None,
    server_name: str = "accessbot",
) -> str:
    """A complete nats-server config with JetStream and the permission matrix."""
    parts = [
        "# Generated by `accessbot nats-config` from shared/permissions.py; do not edit by hand.",
        f"server_name: {_q(server_name)}",
        f"listen: {_q(f'{host}:{port}')}",
    ]
    if http_port is not None:
        parts.append(f"http: {_q(f'{host}:{http_port}')}")
    parts += [
        "jetstream {",
        f"  store_dir: {_q(store_dir)}",
        "}",
        "max_payload: 1MB",
        render_authorization(passwords),
    ]
    return "\n".join(parts)
