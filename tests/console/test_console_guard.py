"""Only the person at this machine drives the console: no cross-site or DNS-rebound click."""

from __future__ import annotations

import pytest

from emulators.console.guard import LOOPBACK_HOSTS, host_name, refusal

JSON = "application/json"


@pytest.mark.parametrize(
    ("host", "name"),
    [("127.0.0.1:4282", "127.0.0.1"), ("LOCALHOST", "localhost"), ("[::1]:4282", "[::1]")],
)
def test_host_names(host: str, name: str) -> None:
    assert host_name(host) == name


def test_the_consoles_own_page_may_click() -> None:
    origin = "http://127.0.0.1:4282"
    assert refusal("POST", "127.0.0.1:4282", JSON, origin, LOOPBACK_HOSTS) is None
    assert refusal("GET", "localhost:4282", "", None, LOOPBACK_HOSTS) is None


@pytest.mark.parametrize(
    ("method", "host", "content_type", "origin", "status"),
    [
        # a DNS-rebound name: same-origin for the attacker's page, but not our host
        ("POST", "evil.example:4282", JSON, "http://evil.example:4282", 403),
        ("GET", "evil.example:4282", "", None, 403),
        ("GET", None, "", None, 403),
        # another site's page posting to loopback
        ("POST", "127.0.0.1:4282", JSON, "https://evil.example", 403),
        ("POST", "127.0.0.1:4282", JSON, "null", 403),
        # a "simple" cross-site request: no preflight, so it must not be accepted
        ("POST", "127.0.0.1:4282", "text/plain", None, 415),
        ("POST", "127.0.0.1:4282", "application/x-www-form-urlencoded", None, 415),
    ],
)
def test_other_pages_are_refused(
    method: str, host: str | None, content_type: str, origin: str | None, status: int
) -> None:
    refused = refusal(method, host, content_type, origin, LOOPBACK_HOSTS)
    assert refused is not None
    assert refused[0] == status


def test_a_console_bound_elsewhere_answers_on_that_name_too() -> None:
    hosts = LOOPBACK_HOSTS | {host_name("192.168.1.5")}
    assert refusal("GET", "192.168.1.5:4282", "", None, hosts) is None
