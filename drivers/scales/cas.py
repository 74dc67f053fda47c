"""CAS 22-byte format (CI-series indicators and similar).

``ST,GS,`` ID lamp ``,`` 8 data, space, 2-character unit, CR LF; 22 bytes. ID is 0x30 + the
device number. The lamp byte has bit 7 set on purpose (bit 6 stable, bit 2 gross, bit 1 tare,
bit 0 zero), so the port must be 8N1 and the parity bit is not masked. Source: CAS CI-600D
manual p.74, CI-400 p.103 (reference/protocols.md section 5).
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

FRAME_LENGTH = 22
_MODES = {"GS": "gross", "NT": "net"}


class Settings(StreamSettings):
    """CAS keys: 8N1 only (the lamp byte uses bit 7)."""

    bytesize: Literal[8] = 8
    parity: Literal["N"] = "N"


def parse_frame(frame: bytes) -> Reading:
    """Decode one 22-byte frame. Never raises."""
    if len(frame) != FRAME_LENGTH or frame[-2:] != b"\r\n" or frame[5:6] != b",":
        return error(frame, "malformed frame")
    lamp = frame[7]
    head, body = text(frame[:5]), text(frame[9:20])
    if head is None or body is None or frame[8:9] != b"," or not lamp & 0x80 or head[2] != ",":
        return error(frame, "malformed frame")
    status, kind = head[:2], head[3:5]
    if status not in {"ST", "US", "OL"} or kind not in _MODES:
        return error(frame, "malformed frame")
    if status == "OL":
        return Reading(ReadingKind.STATUS, frame, is_overload=True)
    value = number(body[:8])
    if value is None or body[8] != " ":
        return error(frame, "malformed weight")
    # The header and the lamp's stable bit must agree; when they do not, it is not stable.
    is_stable = status == "ST" and bool(lamp & 0x40)
    return weight_reading(frame, value, body[9:11], stable=is_stable, mode=_MODES[kind])


class CasScale(SerialScale[Settings]):
    """A CAS indicator streaming 22-byte frames."""

    # The frame is 22 bytes with CR LF by the manual: a CR alone is no line end here, and a
    # CR LF split across two reads must stay one frame.
    cr_ends_lines = False
    parse = staticmethod(parse_frame)
    model = "CAS indicator"
    mask_parity = False  # the lamp byte uses bit 7


make_decoder = CasScale.decoder


DRIVER = CasScale
