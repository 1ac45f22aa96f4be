"""The device index: who sees which devices, in what order, matched how, and how fast."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.intake.domain.device_index import MAX_RESULTS, DeviceIndex, is_own_device
from services.intake.domain.device_options import (
    ALL_DEVICES,
    YOUR_DEVICES,
    device_label,
    device_option_groups,
    suggestion_response,
)
from shared.contracts.events import DeviceSnapshot

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def device(
    node_id: str,
    owner: str | None = "erin@example.com",
    *,
    name: str | None = None,
    tags: list[str] | None = None,
    ip: str = "100.64.0.1",
    connected: bool | None = False,
    seen_ago: timedelta | None = timedelta(hours=1),
    os: str = "linux",
) -> DeviceSnapshot:
    host = name or node_id.lower()
    return DeviceSnapshot(
        node_id=node_id,
        name=f"{host}.tail1234.ts.net",
        hostname=host,
        owner=owner,
        tags=tags or [],
        os=os,
        addresses=[ip, "fd7a:115c:a1e0::1"],
        last_seen=None if seen_ago is None else NOW - seen_ago,
        connected_to_control=connected,
    )


def ids(devices: list[DeviceSnapshot]) -> list[str]:
    return [d.node_id for d in devices]


def test_own_devices_come_first_connected_then_most_recently_seen() -> None:
    index = DeviceIndex()
    for d in (
        device("nOld", seen_ago=timedelta(days=3)),
        device("nNever", seen_ago=None),
        device("nOnline", connected=True, seen_ago=None),
        device("nRecent", seen_ago=timedelta(minutes=5)),
        device("nBob", owner="bob@example.com"),
        device("nTagged", tags=["tag:server"]),
    ):
        index.put(d)
    found = index.search("", requester_email="Erin@Example.com", include_all=True)
    assert ids(found.own) == ["nOnline", "nRecent", "nOld", "nNever"]
    # everyone else's, tagged included, by name; the requester's own are not repeated
    assert ids(found.others) == ["nBob", "nTagged"]


def test_own_scope_lists_only_the_requesters_untagged_devices() -> None:
    index = DeviceIndex()
    index.put(device("nMine"))
    index.put(device("nTaggedMine", tags=["tag:ci"]))
    index.put(device("nBob", owner="bob@example.com"))
    found = index.search("", requester_email="erin@example.com", include_all=False)
    assert ids(found.own) == ["nMine"]
    assert found.others == []
    assert is_own_device(device("nMine"), "ERIN@example.com")
    assert not is_own_device(device("nTaggedMine", tags=["tag:ci"]), "erin@example.com")
    assert not is_own_device(device("nX", owner=None), "")


def test_query_matches_name_hostname_ip_prefix_and_node_id_case_insensitively() -> None:
    index = DeviceIndex()
    index.put(device("nAAA111CNTRL", name="Build-Box", ip="100.101.1.7"))
    index.put(device("nBBB222CNTRL", name="laptop", ip="100.64.9.9"))

    def hits(query: str) -> list[str]:
        return ids(index.search(query, requester_email="erin@example.com", include_all=True).own)

    assert hits("BUILD") == ["nAAA111CNTRL"]  # hostname / name substring
    assert hits("tail1234") == ["nAAA111CNTRL", "nBBB222CNTRL"]  # MagicDNS name
    assert hits("100.101") == ["nAAA111CNTRL"]  # IP prefix
    assert hits("101.1.7") == []  # an IP matches by prefix only
    assert hits("bbb222") == ["nBBB222CNTRL"]  # node id
    assert hits("  Laptop ") == ["nBBB222CNTRL"]  # trimmed
    assert hits("nothing-like-it") == []


def test_results_are_capped_at_100_options_own_first() -> None:
    index = DeviceIndex()
    for i in range(30):
        index.put(device(f"nMine{i:03}"))
    for i in range(200):
        index.put(device(f"nOther{i:03}", owner=f"u{i}@example.com"))
    found = index.search("", requester_email="erin@example.com", include_all=True)
    assert len(found.own) == 30
    assert len(found.own) + len(found.others) == MAX_RESULTS
    groups = suggestion_response(device_option_groups(found))["option_groups"]
    assert [g["label"]["text"] for g in groups] == [YOUR_DEVICES, ALL_DEVICES]


def test_updates_and_deletes_change_results() -> None:
    index = DeviceIndex()
    index.put(device("nA", name="alpha"))
    index.put(device("nA", name="alpha", owner="bob@example.com"))  # changed hands
    assert index.search("", requester_email="erin@example.com", include_all=False).own == []
    assert ids(index.search("", requester_email="bob@example.com", include_all=False).own) == ["nA"]
    index.remove("nA")
    assert index.get("nA") is None
    assert len(index) == 0
    found = index.search("alpha", requester_email="bob@example.com", include_all=True)
    assert (found.own, found.others) == ([], [])


def test_option_text_stays_within_block_kit_limits() -> None:
    long = device("n" + "X" * 63, name="h" * 200, tags=["tag:" + "t" * 80])
    label = device_label(long, show_owner=True)
    assert len(label) <= 75
    assert label.endswith("…")
    group = device_option_groups(
        index_of(long).search("", requester_email="x@example.com", include_all=True)
    )[0]
    assert group.options is not None
    option = group.options[0]
    assert len(option.value) <= 150
    offline = device_label(device("nOff", name="box", os="macOS"), show_owner=False)
    assert offline == "box · 100.64.0.1 · macOS · offline"


def index_of(*devices: DeviceSnapshot) -> DeviceIndex:
    index = DeviceIndex()
    for d in devices:
        index.put(d)
    return index


def test_no_match_answers_an_empty_options_list() -> None:
    found = DeviceIndex().search("x", requester_email="erin@example.com", include_all=True)
    assert suggestion_response(device_option_groups(found)) == {"options": []}


@settings(max_examples=60, deadline=None)
@given(
    owners=st.lists(st.sampled_from(["erin@example.com", "bob@example.com", None]), max_size=40),
    query=st.text(alphabet="abn0123.", max_size=3),
)
def test_search_never_shows_a_device_twice_or_anothers_device_as_yours(
    owners: list[str | None], query: str
) -> None:
    index = DeviceIndex()
    for i, owner in enumerate(owners):
        index.put(device(f"n{i}", owner=owner, name=f"ab{i}", ip=f"100.64.0.{i}"))
    found = index.search(query, requester_email="erin@example.com", include_all=True)
    shown = ids(found.own) + ids(found.others)
    assert len(shown) == len(set(shown))
    assert all(d.owner == "erin@example.com" for d in found.own)


def test_search_at_10000_devices_stays_within_slacks_option_limit() -> None:
    """At 10,000 devices every query answers at most MAX_RESULTS options, every one a
    match, in the shape Slack accepts. How fast: `python -m bench.device_search`
    (README, Performance), not a timed test."""
    rng = random.Random(7)
    index = DeviceIndex()
    for i in range(10_000):
        index.put(
            device(
                f"n{i:05}CNTRL",
                owner=f"user{rng.randrange(2000)}@example.com",
                name=f"host-{rng.randrange(100000):05}",
                ip=f"100.{64 + i // 65536}.{(i // 256) % 256}.{i % 256}",
                connected=rng.random() < 0.3,
                seen_ago=timedelta(minutes=rng.randrange(10000)),
            )
        )
    for query in ["", "host-1", "100.64.3", "zzz-no-match", "cntrl", "n0999"]:
        found = index.search(query, requester_email="user7@example.com", include_all=True)
        devices = [*found.own, *found.others]
        assert len(devices) <= MAX_RESULTS
        body = suggestion_response(device_option_groups(found))
        options = [o for g in body.get("option_groups", []) for o in g["options"]]
        assert len(options) == len(devices)
        if query == "zzz-no-match":
            assert devices == []
            assert body == {"options": []}
        elif query:
            assert devices, query
