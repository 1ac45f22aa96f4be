"""Tailscale API emulator: a real HTTP server with devices, OAuth, posture attributes, faults."""

from emulators.tailscale.calls import RecordedCall
from emulators.tailscale.devices import generate_devices, load_devices
from emulators.tailscale.faults import Fault
from emulators.tailscale.server import TailscaleEmulator

__all__ = ["Fault", "RecordedCall", "TailscaleEmulator", "generate_devices", "load_devices"]
