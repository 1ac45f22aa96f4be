"""structlog, configured once per service: JSON off a TTY, console on one.

Handlers bind `request_id` (and the event id) with `bound_event`, and emit one
canonical line per event handled.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import structlog


def configure_logging(
    service: str,
    *,
    fmt: Literal["auto", "json", "console"] = "auto",
    level: str = "INFO",
) -> None:
    """Configure structlog for this process; call once, from the composition root."""
    use_console = fmt == "console" or (fmt == "auto" and sys.stderr.isatty())
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer() if use_console else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)
    # Libraries (nats, faststream, aiohttp) log through stdlib logging: keep them quiet
    # and on stderr so stdout stays clean for the CLI.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s %(message)s")


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
