"""Random bytes into every decoder: never an exception, never a weight from a non-frame.

Each protocol has an independent, strict description of a well-formed weight frame here; a
reading that carries a weight must have raw bytes that match it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scale_agent.tools.decoding import make_decoder

NUMBER = rb"[+-]?\s*\d*\.?\d+"
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
    "ad": ({}, re.compile(rb"^(ST|US|QT)," + NUMBER + rb"\s*[ A-Za-z%]{3}\r?\n$")),
    "gs-nt": ({}, re.compile(rb"^(ST|US),(GS|NT)," + NUMBER + rb"\s*[A-Za-z%]{0,3}\r?\n$")),
    "ohaus": ({}, re.compile(rb"^[\s\-?]*[\d.]+\s*[A-Za-z]+[\s?]*[A-Za-z]*\s*\r?\n$")),
    "cas": (
        {},
        re.compile(
            rb"^(ST|US),(GS|NT),(.[\x80-\xff],.{8}[^\n]|" + NUMBER + rb")[A-Za-z ]{2}\r\n$",
            re.DOTALL,
        ),
    ),
    "line": (
        {"preset": "fairbanks-ups"},
        re.compile(rb"^\s*-?\s*[\d.]+\s+(lb|kg)\s+(GR|gr)\s*\r?\n$"),
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
