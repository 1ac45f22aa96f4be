"""structlog, configured once per process: JSON off a TTY, console on one.

Our own events and the libraries' records (FastStream, nats-py, aiohttp, asyncio, through
one stdlib handler with structlog's `ProcessorFormatter`) go through the same processors
and renderer: one JSON object per line, with logger name, level, service and `request_id`.

Handlers bind `request_id` (and the event id) with `bound_event`, and emit one
canonical line per event handled.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import structlog

LogFormat = Literal["auto", "json", "console"]

# FastStream logs a line per subscriber at start, per message handled and per task
# callback at stop, all at INFO (httpx a line per request); our subscribers and clients
# log one canonical line per event or call, so this chatter shows only with
# LOG_LEVEL=DEBUG. Their warnings and errors always show.
FASTSTREAM_LOGGER = "faststream"
CHATTY_LIBRARIES = (FASTSTREAM_LOGGER, "nats", "aiohttp", "asyncio", "httpx", "httpcore")

# Shared by our events and foreign records, so both carry the same keys.
_SHARED_PROCESSORS: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.StackInfoRenderer(),
]


def use_json(fmt: LogFormat, stream: object = None) -> bool:
    """JSON unless asked for the console, or `auto` and the stream is a terminal."""
    if fmt == "auto":
        target = stream if stream is not None else sys.stderr
        isatty = getattr(target, "isatty", None)
        return not (callable(isatty) and isatty())
    return fmt == "json"


def _renderers(json: bool) -> list[structlog.types.Processor]:
    if json:
        # Tracebacks become one `exception` string: the line stays one JSON object.
        return [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    return [structlog.dev.ConsoleRenderer()]


def _formatter(json: bool) -> structlog.stdlib.ProcessorFormatter:
    """Renders foreign (stdlib) records exactly as our own events."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED_PROCESSORS, structlog.stdlib.ExtraAdder()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *_renderers(json)],
    )


class _NamedWriter(structlog.WriteLogger):
    """Our own events skip stdlib logging (a third of the cost per line) but keep the
    logger name `add_logger_name` reads."""

    def __init__(self, name: str) -> None:
        super().__init__(sys.stderr)
        self.name = name


def _named_writer(*args: object) -> _NamedWriter:
    return _NamedWriter(str(args[0]) if args else "accessbot")


def configure_logging(service: str, *, fmt: LogFormat = "auto", level: str = "INFO") -> None:
    """Configure structlog and stdlib logging for this process; call once, early."""
    numeric = logging.getLevelName(level)
    handler = logging.StreamHandler(sys.stderr)
    json = use_json(fmt, sys.stderr)
    handler.setFormatter(_formatter(json))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    library_level = numeric if numeric <= logging.DEBUG else max(numeric, logging.WARNING)
    for name in CHATTY_LIBRARIES:
        library = logging.getLogger(name)
        library.setLevel(library_level)
    # FastStream gives its module logger a colourised handler of its own at import and
    # stops propagation; the broker gets `library_logger()` instead (shared.connection).
    faststream = logging.getLogger(FASTSTREAM_LOGGER)
    for old in list(faststream.handlers):
        faststream.removeHandler(old)
    faststream.propagate = True
    structlog.configure(
        processors=[*_SHARED_PROCESSORS, *_renderers(json)],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_named_writer,
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)


def configure_from_env(service: str) -> None:
    """`configure_logging` with LOG_FORMAT / LOG_LEVEL (for CLI commands without settings)."""
    formats: dict[str, LogFormat] = {"json": "json", "console": "console"}
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    configure_logging(
        service,
        fmt=formats.get(os.environ.get("LOG_FORMAT", "").lower(), "auto"),
        level=level if level in ("DEBUG", "INFO", "WARNING", "ERROR") else "INFO",
    )


def library_logger() -> logging.Logger:
    """The logger FastStream's broker writes to (ours, so no colours and no own handler)."""
    return logging.getLogger(f"{FASTSTREAM_LOGGER}.broker")


@contextmanager
def bound_event(
    request_id: str, event_id: str | None = None, *, trace_id: str | None = None
) -> Iterator[None]:
    """Bind `request_id` (and `event_id`, `trace_id`) to every log line of one handler run."""
    tokens = structlog.contextvars.bind_contextvars(
        request_id=request_id, event_id=event_id, trace_id=trace_id
    )
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
