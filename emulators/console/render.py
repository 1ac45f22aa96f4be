"""Pure HTML for the console's panes (the Block Kit parts come from the Slack emulator's
renderer; this module only arranges messages, threads, devices and events)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from emulators.console.people import Person
from emulators.slack.blockkit_html import Directory, render_message

# Bounds: a pane shows at most this many of the newest items (what lies beyond is counted).
MAX_MESSAGES = 100
MAX_DEVICES = 300


def _clock(ts: str, tz: str) -> str:
    try:
        moment = datetime.fromtimestamp(float(ts), UTC)
    except (TypeError, ValueError):
        return ""
    del tz  # the console shows UTC: the same for every viewer and in screenshots
    return moment.strftime("%H:%M:%S")


def _one_message(message: Mapping[str, Any], directory: Directory, edited: bool) -> str:
    ts = str(message.get("ts", ""))
    mark = ' <span class="edited">(edited)</span>' if edited else ""
    return (
        f'<article class="msg" data-channel="{escape(str(message.get("channel", "")))}" '
        f'data-ts="{escape(ts)}">'
        f'<header><b>Accessbot</b> <span class="time">{_clock(ts, directory.tz)}</span>{mark}'
        f"</header>{render_message(message, directory)}</article>"
    )


def render_messages(messages: Sequence[Mapping[str, Any]], directory: Directory) -> str:
    """A channel or DM: top-level messages oldest first, each with its thread replies."""
    live = [m for m in messages if not m.get("deleted") and not m.get("is_ephemeral")]
    parents = [m for m in live if not m.get("thread_ts") or m.get("thread_ts") == m.get("ts")]
    replies: dict[str, list[Mapping[str, Any]]] = {}
    for message in live:
        thread = message.get("thread_ts")
        if thread and thread != message.get("ts"):
            replies.setdefault(str(thread), []).append(message)
    hidden = max(0, len(parents) - MAX_MESSAGES)
    parts = [f'<p class="muted">{hidden} older messages not shown</p>'] if hidden else []
    for parent in parents[hidden:]:
        html = _one_message(parent, directory, bool(parent.get("updates")))
        thread = replies.get(str(parent.get("ts")), [])
        if thread:
            inner = "".join(_one_message(r, directory, bool(r.get("updates"))) for r in thread)
            html += (
                f'<details class="thread" open><summary>{len(thread)} '
                f"{'reply' if len(thread) == 1 else 'replies'}</summary>{inner}</details>"
            )
        parts.append(html)
    if not parts:
        return '<p class="muted">No messages yet.</p>'
    return "".join(parts)


def render_people(people: Sequence[Person], chosen: str | None) -> str:
    """The "who are you" picker's options."""
    options = []
    for person in people:
        selected = " selected" if person.user_id == chosen else ""
        options.append(
            f'<option value="{escape(person.user_id)}"{selected}>{escape(person.name)} '
            f"&lt;{escape(person.email)}&gt; ({escape(person.role)})</option>"
        )
    return "".join(options)


def _attribute_rows(attributes: Mapping[str, Any]) -> str:
    rows = []
    for key, attribute in sorted(attributes.items()):
        expiry = attribute.get("expiry")
        expires = (
            f'<span class="countdown" data-expiry="{escape(str(expiry))}">{escape(str(expiry))}'
            "</span>"
            if expiry
            else "never"
        )
        rows.append(
            f'<li class="attribute" data-key="{escape(key)}"><code>{escape(key)}</code> = '
            f"<code>{escape(json.dumps(attribute.get('value')))}</code><br>expires {expires}</li>"
        )
    return "".join(rows)


def _email_cell(email: str) -> str:
    """An email that wraps before its `@` when the column is narrow (not inside a word)."""
    local, at, domain = email.partition("@")
    return escape(local) + (f"<wbr>@{escape(domain)}" if at else "")


def _address_cell(address: str) -> str:
    """An address that wraps after a dot when the column is narrow (never over the next)."""
    return ".<wbr>".join(escape(part) for part in address.split("."))


def render_tailnet(devices: Sequence[Mapping[str, Any]], owner: str | None = None) -> str:
    """Devices with posture attributes first, then the chosen person's, then the rest."""

    def order(device: Mapping[str, Any]) -> tuple[int, int, str]:
        return (
            0 if device.get("attributes") else 1,
            0 if owner and device.get("user") == owner else 1,
            str(device.get("name", "")),
        )

    ranked = sorted(devices, key=order)
    shown, hidden = ranked[:MAX_DEVICES], max(0, len(ranked) - MAX_DEVICES)
    rows = []
    for device in shown:
        attributes = device.get("attributes") or {}
        tags = ", ".join(device.get("tags") or [])
        tagged = f'<div class="tags">{escape(tags)}</div>' if tags else ""
        address = str((device.get("addresses") or [""])[0])  # IPv4 first; IPv6 is long
        granted = " granted" if attributes else ""
        mine = " mine" if owner and device.get("user") == owner else ""
        rows.append(
            f'<tr class="device{granted}{mine}" data-node-id="{escape(str(device.get("nodeId")))}">'
            f"<td>{escape(str(device.get('name', '')).split('.')[0])}{tagged}</td>"
            f"<td>{_email_cell(str(device.get('user', '')))}</td>"
            f"<td><code>{_address_cell(address)}</code></td>"
            f'<td><ul class="attributes">{_attribute_rows(attributes)}</ul></td></tr>'
        )
    more = f'<p class="muted">{hidden} more devices not shown</p>' if hidden else ""
    return (
        '<table class="tailnet"><thead><tr><th>Device <small>(tags)</small></th><th>Owner</th>'
        "<th>Address</th><th>Posture attributes</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
        + more
    )
