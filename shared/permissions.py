"""The one permission matrix: which NATS user may publish and subscribe where.

It follows the tables of docs/architecture.md (who publishes which subject, who owns which
bucket, who consumes what) and renders the nats-server `accounts` block used by
both `deploy/nats/nats.conf` and the embedded dev server.

Two accounts: ACCESSBOT holds the services and admin; SIEM holds only the siem user
and its own copy of ACCESS, filled by the server from an export of `access.>`. So the
siem user may use any standard client as is (default `_INBOX.` prefix, ephemeral,
ordered or durable consumers): whatever it creates delivers inside SIEM, where no
service lives, and nothing in SIEM can create a consumer on ACCESSBOT's streams.
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
from shared.contracts.subjects import (
    ACCESS_STREAM,
    ACCESS_SUBJECTS,
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

ACCESSBOT_ACCOUNT = "ACCESSBOT"
SIEM_ACCOUNT = "SIEM"
# The SIEM account's JetStream API as seen from ACCESSBOT: only creating and inspecting
# its copy of ACCESS (services provision it next to ACCESS).
SIEM_JS_API = "$JS.siem.API"
SIEM_COPY_API = (f"STREAM.CREATE.{ACCESS_STREAM}", f"STREAM.INFO.{ACCESS_STREAM}")
# Only the admin (who may publish anywhere) uses this one: moving the copy to more
# replicas with the rest (`accessbot replicas --set N`). Services are not given it.
SIEM_COPY_ADMIN_API = (f"STREAM.UPDATE.{ACCESS_STREAM}",)

PUBLISHES: dict[str, tuple[Subject, ...]] = {
    "intake": (
        Subject.REQUEST_SUBMITTED,
        Subject.DECISION_SUBMITTED,
        Subject.REVOKE_REQUESTED,
        Subject.EXTEND_SUBMITTED,
        Subject.CANCEL_REQUESTED,
        Subject.HOME_REQUESTED,
    ),
    "approvals": (
        Subject.APPROVAL_REQUESTED,
        Subject.APPROVAL_REMINDED,
        Subject.APPROVAL_ESCALATED,
        Subject.APPROVAL_COUNTED,
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
    Bucket.AUTO_APPROVALS: "approvals",
    Bucket.DEVICE_CLAIMS: "approvals",
}

# Buckets a service reads without owning them (intake indexes `devices` by polling it;
# approvals snapshots the device from it; intake reads a pair's claim to answer the form).
BUCKET_READERS: dict[Bucket, tuple[str, ...]] = {
    Bucket.DEVICES: ("intake", "approvals"),
    Bucket.DEVICE_CLAIMS: ("intake",),
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
    subjects += [f"{SIEM_JS_API}.{api}" for api in SIEM_COPY_API]
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
    """Read-only, in the SIEM account: its copy of ACCESS by any standard means.

    Consumers of every kind (ephemeral, ordered, durable; push or pull) on the copy,
    and stored messages by sequence. Its push consumers deliver inside SIEM only, so
    the deliver subject in a create request's body cannot reach a service's inbox.
    It may not publish (the copy would store it), nor create, change, purge or delete
    streams (a stream config could name an import to deliver through).
    """
    s = ACCESS_STREAM
    pub = [
        f"{JS_API}.INFO",
        f"{JS_API}.STREAM.NAMES",
        f"{JS_API}.STREAM.LIST",
        f"{JS_API}.STREAM.INFO.{s}",
        f"{JS_API}.STREAM.MSG.GET.{s}",
        f"{JS_API}.DIRECT.GET.{s}",
        f"{JS_API}.DIRECT.GET.{s}.>",
        f"{JS_API}.CONSUMER.CREATE.{s}",
        f"{JS_API}.CONSUMER.CREATE.{s}.>",
        f"{JS_API}.CONSUMER.DURABLE.CREATE.{s}.>",
        f"{JS_API}.CONSUMER.INFO.{s}.>",
        f"{JS_API}.CONSUMER.DELETE.{s}.>",
        f"{JS_API}.CONSUMER.NAMES.{s}",
        f"{JS_API}.CONSUMER.LIST.{s}",
        f"{JS_API}.CONSUMER.MSG.NEXT.{s}.>",
        f"$JS.ACK.{s}.>",
        f"$JS.FC.{s}.>",
    ]
    # Subscribing anywhere is harmless: SIEM holds nothing but the siem user's own
    # traffic and the imported events.
    return Permissions(publish=tuple(pub), subscribe=(">",))


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


def account_of(user: str) -> str:
    """The NATS account a user lives in."""
    return SIEM_ACCOUNT if user == SIEM_USER else ACCESSBOT_ACCOUNT


def _render_user(user: str, perms: Permissions, secret: str | None) -> list[str]:
    pw = _q(secret) if secret is not None else f"${password_env_var(user)}"
    lines = [f"      {{user: {_q(user)}, password: {pw}, permissions: {{"]
    lines.append("        publish: {allow: [")
    lines += [f"          {_q(s)}," for s in perms.publish]
    if perms.publish_deny:
        lines.append("        ], deny: [")
        lines += [f"          {_q(s)}," for s in perms.publish_deny]
    lines.append("        ]}")
    lines.append("        subscribe: {allow: [")
    lines += [f"          {_q(s)}," for s in perms.subscribe]
    lines.append("        ]}")
    lines.append("      }}")
    return lines


def _account_links(account: str) -> list[str]:
    """ACCESSBOT exports the events to SIEM; SIEM lets ACCESSBOT provision its copy."""
    events = _q(ACCESS_SUBJECTS)
    if account == ACCESSBOT_ACCOUNT:
        exports = [f"{{stream: {events}, accounts: [{SIEM_ACCOUNT}]}}"]
        imports = [
            f"{{service: {{account: {SIEM_ACCOUNT}, subject: {_q(f'{JS_API}.{api}')}}}, "
            f"to: {_q(f'{SIEM_JS_API}.{api}')}}}"
            for api in (*SIEM_COPY_API, *SIEM_COPY_ADMIN_API)
        ]
    else:
        exports = [
            f"{{service: {_q(f'{JS_API}.{api}')}, accounts: [{ACCESSBOT_ACCOUNT}]}}"
            for api in (*SIEM_COPY_API, *SIEM_COPY_ADMIN_API)
        ]
        imports = [f"{{stream: {{account: {ACCESSBOT_ACCOUNT}, subject: {events}}}}}"]
    lines = ["    exports: ["] + [f"      {e}" for e in exports] + ["    ]"]
    return lines + ["    imports: ["] + [f"      {i}" for i in imports] + ["    ]"]


def render_accounts(passwords: Mapping[str, str | None]) -> str:
    """The `accounts { ... }` block with every user and its permissions.

    A password of None renders a `$ENV_VAR` reference that nats-server resolves from
    its environment at start (deploy); a string renders literally (embedded dev server).
    """
    lines = ["accounts {"]
    for account in (ACCESSBOT_ACCOUNT, SIEM_ACCOUNT):
        lines += [f"  {account}: {{", "    jetstream: enabled", "    users: ["]
        for user, perms in matrix().items():
            if account_of(user) == account:
                lines += _render_user(user, perms, passwords.get(user))
        lines += ["    ]", *_account_links(account), "  }"]
    lines.append("}")
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
        render_accounts(passwords),
    ]
    return "\n".join(parts)
