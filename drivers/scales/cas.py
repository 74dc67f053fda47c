"""CAS indicators (CI-200/400/600D, NT-200, PDI and similar): the CAS 22-byte and AND 18-byte modes.

The indicator's output format is a setting (CI-600D F-menu, CI-400 F20-F22); this driver reads
every mode that says whether the weight is stable, and tells the two apart by length:

- **CAS 22 bytes**: ``ST,GS,`` ID lamp ``,`` 8 data, a space, 2-character unit, CR LF. ID is
  0x30 + the device number. The lamp byte has bit 7 set on purpose (bit 6 stable, bit 2 gross,
  bit 1 tare, bit 0 zero), so the port must be 8N1 and the parity bit is not masked. The
  "relay status" variant (CI-400) sends the outputs' bits in place of the space.
- **AND 18 bytes** (A&D-compatible): ``ST,GS,+0012.34kg`` CR LF: stability, gross/net, 8
  characters of data with sign and point, a 2-character unit.
- **CAS 10 bytes** (8 characters of data, CR LF) carries no stability and no gross/net, so no
  verdict may rest on it: each such line is an error saying which mode to set instead.

Source: CAS CI-600D manual p.74-75 (10-1 CAS 22 bytes, 10-2 CAS 10 bytes, 10-3 AND 18 bytes),
CI-400 p.103 (the same three, and 22 bytes with relay status), NT-200 p.48
(reference/protocols.md section 5).
"""

from __future__ import annotations

from typing import Literal

from drivers.scales._stream import (
    SerialScale,
    StreamSettings,
    error,
    number,
    text,
    weight_reading,
)
from scale_agent.weights import Reading, ReadingKind

FRAME_LENGTH = 22  # CAS 22 bytes
AND_LENGTH = 18  # AND 18 bytes
DATA_ONLY_LENGTH = 10  # CAS 10 bytes
_MODES = {"GS": "gross", "NT": "net"}
NO_STABILITY = "CAS 10-byte mode has no stability flag: set the indicator to CAS 22 or AND 18 bytes"


class Settings(StreamSettings):
    """CAS keys: 8N1 only (the lamp byte uses bit 7)."""

    bytesize: Literal[8] = 8
    parity: Literal["N"] = "N"


def parse_frame(frame: bytes) -> Reading:
    """Decode one frame of any of the three modes. Never raises."""
    if frame[-2:] != b"\r\n":
        return error(frame, "malformed frame")
    size = len(frame)
    if size == FRAME_LENGTH:
        return _cas_22(frame)
    if size == AND_LENGTH:
        return _and_18(frame)
    if size == DATA_ONLY_LENGTH and number(text(frame) or "") is not None:
        return error(frame, NO_STABILITY)
    return error(frame, "malformed frame")


def _head(frame: bytes) -> tuple[str, str] | None:
    """The stability and gross/net fields (``ST,GS,``), or None when they are not both there."""
    if frame[2:3] != b"," or frame[5:6] != b",":
        return None
    status, kind = frame[:2], frame[3:5]
    if status not in {b"ST", b"US", b"OL"} or kind not in {b"GS", b"NT"}:
        return None
    return status.decode(), kind.decode()


def _cas_22(frame: bytes) -> Reading:
    head, lamp = _head(frame), frame[7]
    body = text(frame[9:17])
    if head is None or body is None or frame[8:9] != b"," or not lamp & 0x80:
        return error(frame, "malformed frame")
    status, kind = head
    if status == "OL":
        return Reading(ReadingKind.STATUS, frame, is_overload=True)
    value, unit = number(body), text(frame[18:20])
    if value is None or unit is None:
        return error(frame, "malformed weight")
    # Byte 17 is a space, or the outputs' bits in the relay-status variant: not read.
    # The header and the lamp's stable bit must agree; when they do not, it is not stable.
    is_stable = status == "ST" and bool(lamp & 0x40)
    return weight_reading(frame, value, unit, stable=is_stable, mode=_MODES[kind])


def _and_18(frame: bytes) -> Reading:
    head, body = _head(frame), text(frame[6:16])
    if head is None or body is None:
        return error(frame, "malformed frame")
    status, kind = head
    if status == "OL":
        return Reading(ReadingKind.STATUS, frame, is_overload=True)
    value = number(body[:8])
    if value is None:
        return error(frame, "malformed weight")
    return weight_reading(frame, value, body[8:], stable=status == "ST", mode=_MODES[kind])


class CasScale(SerialScale[Settings]):
    """A CAS indicator streaming CAS 22-byte or AND 18-byte frames."""

    # The frames end in CR LF by the manual: a CR alone is no line end here, and a CR LF
    # split across two reads must stay one frame.
    cr_ends_lines = False
    parse = staticmethod(parse_frame)
    model = "CAS indicator"
    mask_parity = False  # the lamp byte uses bit 7


make_decoder = CasScale.decoder


DRIVER = CasScale
