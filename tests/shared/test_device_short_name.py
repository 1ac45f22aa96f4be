"""One device, one name: the form, the DMs and the audit channel show the same short name."""

from __future__ import annotations

from services.intake.domain.device_options import device_label
from services.notifier.domain.formatting import device_name
from shared.contracts.events import DeviceSnapshot


def _device(name: str, hostname: str) -> DeviceSnapshot:
    return DeviceSnapshot(node_id="n1", name=name, hostname=hostname, addresses=["100.64.0.9"])


def test_a_second_device_with_a_taken_hostname_is_named_as_magicdns_names_it() -> None:
    # Tailscale keeps hostnames as reported but makes MagicDNS names unique (`-1`).
    second = _device("danas-ipad-1.tail1234.ts.net", "danas-ipad")
    assert second.short_name == "danas-ipad-1"
    assert device_label(second, show_owner=False).startswith("danas-ipad-1 ·")
    assert device_name(second) == "danas-ipad-1"


def test_without_a_magicdns_name_the_hostname_is_shown() -> None:
    bare = _device("", "build-box")
    assert bare.short_name == "build-box"
    assert device_name(bare) == "build-box"
    assert device_label(bare, show_owner=False).startswith("build-box")
