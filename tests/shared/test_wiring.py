"""Connect first, then wire: handlers are built whole once NATS is connected."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from typing import Any, cast

import pytest
from nats.js import JetStreamContext

from services.approvals.handlers import Approvals
from services.intake.handlers.handling import Deps
from services.notifier.adapters.store import RecordStore
from shared.runtime import NotWiredError, Wiring

SERVICES = Path(__file__).resolve().parents[2] / "services"


async def test_handlers_are_there_only_after_connecting() -> None:
    js = cast(JetStreamContext, object())
    seen: list[Any] = []

    async def wire(connection: JetStreamContext) -> dict[str, Any]:
        seen.append(connection)
        return {"on": connection}

    wiring = Wiring(wire)
    states = [wiring.wired]
    with pytest.raises(NotWiredError, match="before the service connected"):
        _ = wiring.handlers
    await wiring.connect(js)
    states.append(wiring.wired)
    assert states == [False, True]
    assert wiring.handlers == {"on": js}
    assert seen == [js]


def _required(callable_: Any, name: str) -> bool:
    return inspect.signature(callable_).parameters[name].default is inspect.Parameter.empty


def test_every_handler_gets_its_ports_when_built() -> None:
    assert _required(Approvals, "ports")
    assert not hasattr(Approvals, "bind")
    assert _required(RecordStore, "records")
    assert not hasattr(RecordStore, "bind")
    publisher = next(f for f in dataclasses.fields(Deps) if f.name == "publisher")
    assert publisher.default is dataclasses.MISSING


def test_no_service_binds_late() -> None:
    for path in SERVICES.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for late in ("before bind", "before NATS connected", "use_publisher", "class _Parts"):
            assert late not in text, f"{path.relative_to(SERVICES)}: {late}"
