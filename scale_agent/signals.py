"""What the packer is shown: the signal, the seal interlock and a short text.

Part of the driver API (output drivers receive an `Indication`), kept apart from the plug-in
registry so that the pure rules can name a signal without importing the registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Signal(StrEnum):
    """What the packer is shown."""

    IDLE = "idle"  # no order loaded
    READY = "ready"  # order loaded, place the parcel
    SETTLING = "settling"  # parcel on the platter, waiting for a settled weight
    PASS = "pass"  # noqa: S105 - a verdict, not a password. Seal it.
    FAIL = "fail"  # do not seal; see the reason
    RECHECK = "recheck"  # too close to call or unstable: re-seat and weigh again
    ITEM_MISMATCH = "item_mismatch"  # item-by-item: the scan and the weight disagree
    FAULT = "fault"  # the scale or the order source is not working


@dataclass(frozen=True)
class Indication:
    """One state of the packer's lights: the signal, the seal interlock, and a short text.

    `is_seal_enabled` is True only while the current parcel holds a PASS (or an override);
    every output must keep the interlock open otherwise. `seal_text` says the seal state in
    the packer's language ("封箱已锁定"); an output that shows words falls back to its own.
    """

    signal: Signal
    text: str = ""
    is_seal_enabled: bool = False
    seal_text: str = ""


SAFE_INDICATION = Indication(Signal.FAULT, "scale-agent stopped", is_seal_enabled=False)
