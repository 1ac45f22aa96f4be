"""Provisioning is idempotent and reports drift clearly."""

from __future__ import annotations

from typing import cast

import pytest
from nats.js import JetStreamContext
from nats.js.api import StreamConfig, StreamInfo
from nats.js.errors import NotFoundError

from shared.contracts.subjects import Bucket
from shared.provisioning import (
    NotReadableYetError,
    access_stream_config,
    provision,
    readable_stream_info,
)
from shared.runtime import BUSY_ERRORS


async def test_provisioning_twice_is_a_no_op(admin_js: JetStreamContext) -> None:
    # admin_js already provisioned once
    before = {name: (await admin_js.stream_info(name)).config for name in _all_streams()}
    report = await provision(admin_js)
    assert report.created == []
    assert report.drift == []
    assert sorted(report.unchanged) == sorted([*_all_streams(), "SIEM/ACCESS"])
    after = {name: (await admin_js.stream_info(name)).config for name in _all_streams()}
    assert before == after


async def test_first_provisioning_creates_everything(admin_js: JetStreamContext) -> None:
    for name in _all_streams():
        await admin_js.delete_stream(name)
    report = await provision(admin_js)
    assert sorted(report.created) == sorted(_all_streams())
    timers = await admin_js.stream_info("TIMERS")
    assert timers.config.allow_msg_schedules is True
    access = await admin_js.stream_info("ACCESS")
    assert access.config.duplicate_window == 120
    assert access.config.max_age == 400 * 86400


async def test_drift_is_reported_not_changed(admin_js: JetStreamContext) -> None:
    drifted = access_stream_config(max_age_days=30, replicas=1)
    await admin_js.update_stream(StreamConfig.from_response(drifted.as_dict()))
    report = await provision(admin_js, max_age_days=400)
    assert [str(d) for d in report.drift] == [
        f"stream ACCESS: max_age is {30 * 86400.0!r}, wanted {400 * 86400.0!r}"
    ]
    info = await admin_js.stream_info("ACCESS")
    assert info.config.max_age == 30 * 86400  # reported, never silently changed


def _all_streams() -> list[str]:
    return ["ACCESS", "TIMERS", "DEADLETTER", *(f"KV_{b.value}" for b in Bucket)]


async def test_request_records_age_out_with_the_audit_log(admin_js: JetStreamContext) -> None:
    for bucket in (Bucket.REQUESTS, Bucket.GRANTS, Bucket.SLACK_MESSAGES):
        info = await admin_js.stream_info(f"KV_{bucket.value}")
        assert info.config.max_age == 400 * 86400, bucket
    devices = await admin_js.stream_info(f"KV_{Bucket.DEVICES.value}")
    assert not devices.config.max_age


async def test_bucket_drift_is_reported(admin_js: JetStreamContext) -> None:
    report = await provision(admin_js, max_age_days=30)
    drifted = sorted(str(d) for d in report.drift if d.stream.startswith("KV_"))
    assert drifted == [
        f"stream KV_{b}: max_age is {400 * 86400.0!r}, wanted {30 * 86400.0!r}"
        for b in sorted(("device_claims", "grants", "requests", "slack_messages"))
    ]


class _LateStreams:
    """JetStream as a cluster answers right after a create: "not found" a few times."""

    def __init__(self, misses: int) -> None:
        self.misses = misses
        self.asked = 0

    async def stream_info(self, name: str) -> StreamInfo:
        self.asked += 1
        if self.asked <= self.misses:
            raise NotFoundError(code=404, err_code=10059, description="stream not found")
        return StreamInfo.from_response(
            {
                "config": {"name": name},
                "state": {
                    "messages": 0,
                    "bytes": 0,
                    "first_seq": 0,
                    "last_seq": 0,
                    "consumer_count": 0,
                },
            }
        )


async def test_a_stream_just_created_is_asked_for_again_until_it_answers() -> None:
    js = _LateStreams(misses=3)
    info = await readable_stream_info(cast(JetStreamContext, js), "KV_device_claims")
    assert info.config.name == "KV_device_claims"
    assert js.asked == 4


async def test_a_stream_never_found_after_its_create_is_a_busy_start_not_a_crash() -> None:
    js = _LateStreams(misses=10**6)
    with pytest.raises(NotReadableYetError, match="KV_device_claims was created but is still"):
        await readable_stream_info(cast(JetStreamContext, js), "KV_device_claims", wait=0.5)
    assert 2 <= js.asked <= 6  # polled READABLE_POLL_SECONDS apart, and then it stops
    assert NotReadableYetError in BUSY_ERRORS  # so starting is tried again (bounded)
