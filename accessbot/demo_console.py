"""`accessbot demo --console`: the sandbox console beside the scripted demo.

The console is the same process `accessbot dev` starts (`python -m emulators.console`),
pointed at the demo's emulators and reading ACCESS as the siem user, so a person
watches the scripted clicks land in the modal, the DMs, the tailnet and the events.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from accessbot.harness import Harness
from accessbot.natsserver import env_without_secrets, port_is_free
from emulators.console.__main__ import ADMIN_PASSWORD_ENV
from shared.cancellation import to_the_end
from shared.permissions import ADMIN_USER, SIEM_USER

START_TIMEOUT_SECONDS = 20.0
STOP_TIMEOUT_SECONDS = 2.0  # its server waits 1 s for open requests, then it exits
_URL_RE = re.compile(r"http://[0-9.]+:\d+/")


class Watch:
    """Ctrl-C while the demo runs stops it; once the demo is over and the console is
    only being looked at, Ctrl-C closes it (exit 0: nothing was cut short)."""

    def __init__(self) -> None:
        self.stopping = asyncio.Event()
        self.done = asyncio.Event()
        self.lingering = False

    def interrupt(self) -> None:
        (self.done if self.lingering else self.stopping).set()

    async def linger(self) -> None:
        self.lingering = True
        await self.done.wait()


class ConsoleError(RuntimeError):
    """The console could not start; the message is the one line a person reads."""


@dataclass
class DemoConsole:
    """The running console process and the URL it printed."""

    process: asyncio.subprocess.Process
    url: str

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT_SECONDS)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


def check_console_port(port: int | None) -> None:
    """Fail before anything starts when the console's port is taken."""
    if port is not None and not port_is_free("127.0.0.1", port):
        raise ConsoleError(
            f"console port {port} is already in use (is `accessbot dev` running?); "
            "pick another with --console-port"
        )


async def start_console(harness: Harness, port: int, log_dir: Path) -> DemoConsole:
    """Start the console on loopback `port` for the demo's stack; its URL once it listens."""
    check_console_port(port)
    args = [
        "-m", "emulators.console",
        "--port", str(port),
        "--slack-url", harness.slack.base_url,
        "--tailscale-url", harness.tailscale.base_url,
        "--profiles", str(harness.profiles_path),
    ]  # fmt: skip
    with (log_dir / "console.log").open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            env=env_without_secrets()
            | harness.nats.env_for(SIEM_USER)
            # the dead-letter list is read as the admin, as under `accessbot dev`
            | {ADMIN_PASSWORD_ENV: harness.nats.passwords[ADMIN_USER]},
        )
    console = DemoConsole(process, "")
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT_SECONDS)
    except TimeoutError:
        line = b""
    match = _URL_RE.search(line.decode(errors="replace"))
    if match is None:
        await console.stop()
        raise ConsoleError(f"the console did not start; see {log_dir / 'console.log'}")
    console.url = match.group(0)
    return console


@contextlib.asynccontextmanager
async def maybe_console(
    harness: Harness, port: int | None, log_dir: Path
) -> AsyncIterator[DemoConsole | None]:
    """The console while the demo runs, or nothing when `port` is None."""
    console = await start_console(harness, port, log_dir) if port is not None else None
    try:
        yield console
    finally:
        if console is not None:
            await to_the_end(console.stop())
