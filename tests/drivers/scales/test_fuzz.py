"""Random bytes into every decoder: never an exception, never a weight from a non-frame.

Each protocol has an independent, strict description of a well-formed weight frame here; a
reading that carries a weight must have raw bytes that match it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.scales._stream import RecentReadings
from scale_agent.tools.decoding import make_decoder
from tests.drivers.scales.frames import even_parity, toledo

if TYPE_CHECKING:
    from scale_agent.weights import Reading

NUMBER = rb"[+-]?\s*\d*\.?\d+"
END = rb"(\r\n|\r|\n)$"  # line protocols: CR LF, LF, or CR only
WELL_FORMED: dict[str, tuple[dict[str, Any], re.Pattern[bytes]]] = {
    "mt-sics": (
        {},
        re.compile(rb"^(S|SI|SIR|SR) [SD] +-?\d+(\.\d*)? (g|kg|lb|lbs|oz)$", re.IGNORECASE),
    ),
    "toledo-continuous": (
        {"checksum": "mettler"},
        re.compile(rb"^\x02[\x20-\x7f]{3}\d{12}\r[\x00-\x7f]$", re.DOTALL),
    ),
    "nci": ({}, re.compile(rb"^\n.*\d.*[A-Za-z]\r\nS?[\x30-\x7f]{2,4}\r\x03$", re.DOTALL)),
    "toledo-8217": ({}, re.compile(rb"^\x02\d+\.\d{2,3}N?\r$")),
    "ad": (
        {},
        re.compile(
            rb"^(ST|US|QT),((GS|NT),"
            + NUMBER
            + rb"[ A-Za-z%]{2}|"
            + NUMBER
            + rb"\s*[ A-Za-z%]{3})"
            + END
        ),
    ),
    "gs-nt": ({}, re.compile(rb"^(ST|US),(GS|NT)," + NUMBER + rb"\s*[A-Za-z%]{0,3}" + END)),
    "ohaus": ({}, re.compile(rb"^[\s\-?]*[\d.]+\s*[A-Za-z]+[\s?]*[A-Za-z ]*" + END)),
    "cas": (
        {},
        re.compile(
            rb"^(ST|US),(GS|NT),(.[\x80-\xff],.{8}[^\n]|" + NUMBER + rb")[A-Za-z ]{2}\r\n$",
            re.DOTALL,
        ),
    ),
    "line": (
        {"preset": "fairbanks-ups"},
        re.compile(rb"^\s*-?\s*[\d.]+\s+(lb|kg)\s+(GR|gr)\s*" + END),
    ),
    "hid-pos": ({}, re.compile(rb"^\x03[\x02-\x04][\x01\x02\x03\x0b\x0c].{3}$", re.DOTALL)),
}


@pytest.mark.parametrize("protocol", sorted(WELL_FORMED))
@settings(max_examples=300, deadline=None)
@given(chunks=st.lists(st.binary(max_size=48), max_size=12))
def test_random_bytes_never_raise_and_never_make_a_weight(
    protocol: str, chunks: list[bytes]
) -> None:
    options, well_formed = WELL_FORMED[protocol]
    decoder = make_decoder(protocol, options)
    for chunk in chunks:
        for reading in decoder.feed(chunk):
            if reading.weight is not None:
                assert well_formed.match(reading.raw), reading.raw


@pytest.mark.parametrize("protocol", sorted(WELL_FORMED))
@settings(max_examples=100, deadline=None)
@given(noise=st.binary(min_size=1, max_size=64), cut=st.integers(min_value=0, max_value=64))
def test_a_frame_after_noise_still_decodes(protocol: str, noise: bytes, cut: int) -> None:
    good = {
        "mt-sics": b"S S      1.250 kg\r\n",
        "ad": b"ST,+00012.34  g\r\n",
        "gs-nt": b"ST,GS,+0012.34kg\r\n",
        "ohaus": b"     12.34 kg   G\r\n",
        "line": b"   12.34 lb GR  \r\n",
        "nci": b"\n  1.25lb\r\n00\r\x03",
        "toledo-8217": b"\x0201.250\r",
    }
    if protocol not in good:
        return  # binary-framed protocols are covered by their own resync tests
    options, _ = WELL_FORMED[protocol]
    decoder = make_decoder(protocol, options)
    decoder.feed(noise[:cut])
    # A line or frame end flushes whatever the noise left half-read.
    flush = b"\r\x03\n" if protocol in {"nci", "toledo-8217"} else b"\r\n"
    decoder.feed(flush)
    readings = decoder.feed(good[protocol] * 2)
    assert [r.weight for r in readings if r.weight is not None][-1:] != []


# Two frames each, as scales send them (and, for the line protocols, as a 7E1 port sends them).
FRAMES: dict[str, list[bytes]] = {
    "mt-sics": [b"S S      1.250 kg\r\n", b"S D      1.248 kg\r\n"],
    "toledo-continuous": [toledo(0x30, 0x30, 0x20, "001250"), toledo(0x32, 0x30, 0x20, "001248")],
    "nci": [b"\n  1.25lb\r\n00\r\x03", b"\n  1.24lb\r\n10\r\x03"],
    "toledo-8217": [b"\x0201.250\r", b"\x0201.248\r"],
    "ad": [b"ST,+00012.34  g\r\n", even_parity(b"US,+00012.30  g\r\n")],
    "gs-nt": [b"ST,GS,+0012.34kg\r\n", even_parity(b"US,NT,+0012.30kg\r\n")],
    "ohaus": [b"     12.34 kg   G\r\n", b"     12.30 kg ? G\r"],
    "cas": [b"ST,GS,1\xc4,  12.345 kg\r\n", b"US,GS,1\x84,  12.300 kg\r\n"],
    "line": [b"   12.34 lb GR  \r\n", b"   12.30 lb gr  \r\n"],
    "hid-pos": [b"\x03\x04\x02\x00\xe2\x04", b"\x03\x03\x02\x00\xe0\x04"],
}


@pytest.mark.parametrize("protocol", sorted(FRAMES))
def test_the_frames_as_scales_send_them_are_weights_of_the_well_formed_shape(
    protocol: str,
) -> None:
    """The shapes above are what the drivers read: each documented variant among them."""
    options, well_formed = WELL_FORMED[protocol]
    variants = FRAMES[protocol] + VARIANTS.get(protocol, [])
    for frame in variants:
        [reading] = make_decoder(protocol, options).feed(frame)
        assert reading.weight is not None, (frame, reading)
        assert well_formed.match(reading.raw), reading.raw


# The variants of #18, each from its manual: A&D 8 + 2 characters (gross and net), CR-only
# lines, CAS in its AND-compatible 18-byte mode, Ohaus legends of several words.
VARIANTS: dict[str, list[bytes]] = {
    "ad": [b"ST,GS,+0012.34kg\r\n", b"ST,NT,+0012.34kg\r", b"US,+00012.30  g\r"],
    "gs-nt": [b"ST,NT,+0012.34kg\r"],
    "mt-sics": [b"S S      1.250 kg\r"],
    "cas": [b"ST,GS,+0012.34kg\r\n", b"US,NT,+0012.30kg\r\n"],
    "ohaus": [b"     12.34 kg   WET WT\r", b"     12.30 kg ? WET WT\r\n", b"  0.50 kg   NET\n"],
    "line": [b"   12.34 lb GR  \r"],
}


class Forgetful(RecentReadings):
    """A decoder memory that keeps nothing: every frame is cut and parsed anew."""

    def keep(self, key: bytes, reading: Reading) -> None:
        _ = key, reading


def _readings(decoder: Any, reads: list[bytes]) -> list[tuple[Any, ...]]:
    return [
        (r.kind, r.raw, r.weight, r.is_stable, r.mode, r.is_overload, r.error, r.detail)
        for read in reads
        for r in decoder.feed(read)
    ]


@pytest.mark.parametrize("protocol", sorted(FRAMES))
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_what_a_decoder_remembers_never_changes_what_a_stream_decodes_to(
    protocol: str, data: st.DataObject
) -> None:
    """Frames seen lately and reads that were one whole frame short-cut the decoding; the
    readings must be those of a decoder that remembers nothing, however the bytes arrive."""
    pieces = data.draw(
        st.lists(st.sampled_from(FRAMES[protocol]) | st.binary(max_size=6), max_size=30)
    )
    stream = b"".join(pieces)
    cuts = sorted(data.draw(st.sets(st.integers(0, len(stream)), max_size=12)))
    # Reads of whole pieces (a poll's answer, hidraw) and reads cut anywhere (a busy line).
    reads = pieces + [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    options = WELL_FORMED[protocol][0]
    remembering = make_decoder(protocol, options)
    forgetting = make_decoder(protocol, options)
    for name in ("_seen", "_reads"):
        if hasattr(forgetting, name):
            setattr(forgetting, name, Forgetful())
    assert _readings(remembering, reads) == _readings(forgetting, reads)
