"""The tailnet's custom attributes in a JSON file, so a restarted emulator keeps them.

`accessbot dev` keeps NATS (and so the grants KV) across runs; without this the
emulated tailnet would start empty and the two would disagree silently. Only what
a real tailnet keeps is saved: each device's custom attributes with their expiry
and comment. Attributes whose expiry passed while the emulator was down are not
restored (Tailscale removes them itself), nor are those of devices no longer served.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from emulators.tailscale.rules import InvalidAttributeError
from emulators.tailscale.timefmt import format_rfc3339

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1


class AttributeHolder(Protocol):
    """What persistence needs of the emulator."""

    def devices(self) -> list[dict[str, Any]]: ...
    def attributes(self, node_id: str) -> dict[str, dict[str, Any]]: ...
    def restore_attribute(
        self, node_id: str, key: str, value: object, expiry: str | None, comment: str | None
    ) -> None: ...


def snapshot(emulator: AttributeHolder) -> dict[str, Any]:
    """`{"version": 1, "attributes": {nodeId: {key: {value, expiry, comment}}}}`."""
    saved: dict[str, dict[str, Any]] = {}
    for device in emulator.devices():
        attributes = emulator.attributes(device["nodeId"])
        if attributes:
            saved[device["nodeId"]] = {
                key: _saved_attribute(attr) for key, attr in attributes.items()
            }
    return {"version": FORMAT_VERSION, "attributes": saved}


def _saved_attribute(attr: Mapping[str, Any]) -> dict[str, Any]:
    expiry: datetime | None = attr["expiry"]
    return {
        "value": attr["value"],
        "expiry": None if expiry is None else format_rfc3339(expiry),
        "comment": attr["comment"],
    }


def save(emulator: AttributeHolder, path: Path) -> None:
    """Write atomically (a crash mid-write leaves the previous file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(snapshot(emulator)), encoding="utf-8")
    os.replace(temporary, path)


def restore(emulator: AttributeHolder, path: Path) -> int:
    """Load what `save` wrote; returns how many attributes came back. A missing file
    is a fresh tailnet; an unreadable one is logged and ignored."""
    if not path.exists():
        return 0
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        logger.warning("tailnet state %s not restored: %s", path, exc)
        return 0
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        data = {}
    nodes = data.get("attributes")
    if not isinstance(nodes, dict):
        logger.warning("tailnet state %s not restored: not a version %d file", path, FORMAT_VERSION)
        return 0
    known = {d["nodeId"] for d in emulator.devices()}
    restored = 0
    for node_id, attributes in nodes.items():
        if node_id not in known or not isinstance(attributes, dict):
            logger.warning("tailnet state: device %s is no longer served; dropped", node_id)
            continue
        for key, attr in attributes.items():
            try:
                emulator.restore_attribute(
                    node_id, key, attr.get("value"), attr.get("expiry"), attr.get("comment")
                )
            except (InvalidAttributeError, AttributeError) as exc:
                logger.info("tailnet state: %s on %s not restored: %s", key, node_id, exc)
                continue
            restored += 1
    return restored
