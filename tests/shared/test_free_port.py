"""Ports for child processes are picked outside the range outgoing connections take."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from accessbot.natsserver import ephemeral_range, free_port, port_is_free


def test_the_ephemeral_range_is_read_and_a_default_stands_in(tmp_path: Path) -> None:
    ranges = tmp_path / "ip_local_port_range"
    ranges.write_text("40000\t50000\n", encoding="ascii")
    assert ephemeral_range(ranges) == (40000, 50000)
    ranges.write_text("garbage", encoding="ascii")
    assert ephemeral_range(ranges) == (32768, 60999)
    assert ephemeral_range(tmp_path / "missing") == (32768, 60999)


@pytest.mark.emulator  # binds loopback sockets
def test_a_free_port_is_outside_the_ephemeral_range_and_bindable() -> None:
    low, high = ephemeral_range()
    ports = {free_port() for _ in range(20)}
    assert all(not low <= port <= high for port in ports), ports
    assert len(ports) > 1  # picked at random, not the same one each time
    port = ports.pop()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        assert not port_is_free("127.0.0.1", port)
