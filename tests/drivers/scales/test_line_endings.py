"""Every line protocol reads an indicator set to end lines with CR only, LF only, or CR LF.

(CAS is not one of them: its 22-byte frame always ends in CR LF, by the manual.)
"""

from __future__ import annotations

import pytest

from scale_agent.tools.decoding import make_decoder

LINES = {
    "mt-sics": ({}, b"S S      1.250 kg"),
    "ad": ({}, b"ST,+00012.34  g"),
    "gs-nt": ({}, b"ST,GS,+0012.34kg"),
    "ohaus": ({}, b"     12.34 kg   G"),
    "line": ({"preset": "fairbanks-ups"}, b"   12.34 lb GR  "),
}


@pytest.mark.parametrize("protocol", sorted(LINES))
@pytest.mark.parametrize("ending", [b"\r\n", b"\n", b"\r"])
def test_each_line_is_read_whatever_ends_it(protocol: str, ending: bytes) -> None:
    options, line = LINES[protocol]
    decoder = make_decoder(protocol, options)
    readings = decoder.feed((line + ending) * 3)
    assert [r.error for r in readings] == [None, None, None], readings
    assert all(r.weight is not None for r in readings)
    # Byte by byte, as a slow line delivers it: the same three readings, no empty lines.
    slow = make_decoder(protocol, options)
    one_by_one = [r for byte in (line + ending) * 3 for r in slow.feed(bytes([byte]))]
    assert [r.weight for r in one_by_one] == [r.weight for r in readings]
