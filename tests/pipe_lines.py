"""Lines of a child process's output, read from its pipe's descriptor.

`select()` tells whether the descriptor has bytes, but a buffered reader (`readline` on
the Popen's file object) may already hold the next lines in its own buffer, where
`select()` cannot see them: a wait for a line written together with an earlier one would
time out although the line has arrived. Reading with `os.read` and splitting here keeps
every byte visible. There is one reader per pipe (`lines_of`), so successive waits on one
process share what was read ahead.
"""

from __future__ import annotations

import os
import select
import weakref
from typing import IO, Any


class PipeLines:
    """Complete lines from one pipe, as they arrive."""

    def __init__(self, pipe: IO[Any]) -> None:
        self._fd = pipe.fileno()
        self._unread = b""
        self.eof = False

    def next_line(self, timeout: float) -> str | None:
        """The next line (without its newline), or None: nothing came within `timeout`
        seconds, or the pipe closed (`eof`) before a whole line did."""
        while b"\n" not in self._unread:
            if self.eof:
                return None
            ready, _, _ = select.select([self._fd], [], [], timeout)
            if not ready:
                return None
            chunk = os.read(self._fd, 65536)
            if not chunk:
                self.eof = True
                return None
            self._unread += chunk
        line, self._unread = self._unread.split(b"\n", 1)
        return line.decode(errors="replace")

    def rest(self) -> str:
        """Everything not returned yet, to the end of the output (blocks until the
        writer closes the pipe: call it once the process has exited)."""
        chunks = [self._unread]
        self._unread = b""
        while not self.eof:
            chunk = os.read(self._fd, 65536)
            self.eof = not chunk
            chunks.append(chunk)
        return b"".join(chunks).decode(errors="replace")


_READERS: weakref.WeakKeyDictionary[IO[Any], PipeLines] = weakref.WeakKeyDictionary()


def lines_of(pipe: IO[Any]) -> PipeLines:
    """The reader of `pipe` (the same one on every call)."""
    reader = _READERS.get(pipe)
    if reader is None:
        reader = _READERS[pipe] = PipeLines(pipe)
    return reader
