"""MT-SICS: frames from the reference manual's command descriptions (protocols.md section 1)."""

from __future__ import annotations

import socket
import threading
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.scales.mt_sics import MtSicsScale, Settings, make_decoder, parse_line
from scale_agent.errors import DeviceUnavailableError
from scale_agent.plugins import ScaleCommand
from scale_agent.testing.contracts import ScaleDriverContract
from scale_agent.weights import Mode, ReadingKind, Unit, Weight
from tests.fakes.mt_sics_scale import FakeMtSicsScale

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.mark.parametrize(
    ("line", "kind", "value", "unit", "stable", "error"),
    [
        (b"S S      1.250 kg", ReadingKind.WEIGHT, "1.250", Unit.KG, True, None),
        (b"S D      1.248 kg", ReadingKind.WEIGHT, "1.248", Unit.KG, False, None),
        (b"S S     100.00 g", ReadingKind.WEIGHT, "100.00", Unit.G, True, None),
        (b"S S     -0.015 kg", ReadingKind.WEIGHT, "-0.015", Unit.KG, True, None),
        (b"S D      2.205 lb", ReadingKind.WEIGHT, "2.205", Unit.LB, False, None),
        (b"S S     36.20 oz", ReadingKind.WEIGHT, "36.20", Unit.OZ, True, None),
        (b"SI S      0.500 kg", ReadingKind.WEIGHT, "0.500", Unit.KG, True, None),
        (b"S I", ReadingKind.STATUS, None, None, None, "busy"),
        (b"S S      1.2x0 kg", ReadingKind.ERROR, None, None, None, "malformed weight reply"),
        (b"S S      1.250 ct", ReadingKind.ERROR, None, None, None, "malformed weight reply"),
        (b"S S      1.250", ReadingKind.ERROR, None, None, None, "malformed weight reply"),
        (b"ES", ReadingKind.ERROR, None, None, None, "ES"),
        (b"ET", ReadingKind.ERROR, None, None, None, "ET"),
        (b"EL", ReadingKind.ERROR, None, None, None, "EL"),
        (b"XYZ 12", ReadingKind.ERROR, None, None, None, "unknown reply"),
    ],
)
def test_reply_lines_decode_as_the_manual_says(  # noqa: PLR0917 - one parameter per column
    line: bytes,
    kind: ReadingKind,
    value: str | None,
    unit: Unit | None,
    stable: bool | None,
    error: str | None,
) -> None:
    reading = parse_line(line)
    assert reading.kind is kind
    assert reading.weight == (Weight(Decimal(value), unit) if value and unit else None)
    assert reading.is_stable is stable
    assert reading.error == error
    assert reading.raw == line
    if kind is ReadingKind.WEIGHT:
        assert reading.mode is Mode.NET  # S and SI report the net weight


@pytest.mark.parametrize(
    ("line", "overload", "underload"), [(b"S +", True, False), (b"S -", False, True)]
)
def test_overload_and_underload_are_status_without_weight(
    line: bytes, overload: bool, underload: bool
) -> None:
    reading = parse_line(line)
    assert (reading.kind, reading.weight) == (ReadingKind.STATUS, None)
    assert (reading.is_overload, reading.is_underload) == (overload, underload)


def test_identity_replies_keep_quoted_spaces() -> None:
    reading = parse_line(b'I2 A "XS205 Excellence 220.0080 g"')
    assert reading.kind is ReadingKind.REPLY
    assert reading.detail == {
        "command": "I2",
        "status": "A",
        "value": "XS205 Excellence 220.0080 g",
    }
    assert parse_line(b'I4 A "B021002593"').detail == {
        "command": "I4",
        "status": "A",
        "value": "B021002593",
    }


def test_zero_replies() -> None:
    assert parse_line(b"Z A").error is None
    assert parse_line(b"Z I").error == "busy"
    assert parse_line(b"Z +").error == "overload"


def test_frames_split_anywhere_and_glued_together_decode_the_same() -> None:
    stream = b"S S      1.250 kg\r\nS D      1.248 kg\r\nS +\r\n"
    whole = [r.raw for r in make_decoder(Settings(port="x")).feed(stream)]
    for cut in range(1, len(stream)):
        decoder = make_decoder(Settings(port="x"))
        parts = decoder.feed(stream[:cut]) + decoder.feed(stream[cut:])
        assert [r.raw for r in parts] == whole
    assert len(whole) == 3


def test_a_7e1_stream_read_as_8n1_decodes_after_masking_the_parity_bit() -> None:
    def with_even_parity(byte: int) -> int:
        return byte | 0x80 if (byte).bit_count() % 2 else byte

    frame = b"S S      1.250 kg\r\n"
    [reading] = make_decoder(Settings(port="x")).feed(bytes(with_even_parity(b) for b in frame))
    assert reading.weight == Weight.parse("1.250kg")


def test_a_line_without_terminator_is_dropped_as_overlong() -> None:
    decoder = make_decoder(Settings(port="x"))
    readings = decoder.feed(b"\x55" * 300)
    assert [r.error for r in readings] == ["overlong frame"]
    [after] = decoder.feed(b"S S      0.100 kg\r\n")
    assert after.weight == Weight.parse("100g")


@given(st.lists(st.binary(max_size=64), max_size=20))
def test_random_bytes_never_raise_and_every_weight_comes_from_a_valid_frame(
    chunks: list[bytes],
) -> None:
    decoder = make_decoder(Settings(port="x"))
    for chunk in chunks:
        for reading in decoder.feed(chunk):
            if reading.weight is not None:
                tokens = reading.raw.split()
                assert tokens[0] in {b"S", b"SI", b"SIR", b"SR"}
                assert tokens[1] in {b"S", b"D"}
                assert Weight(Decimal(tokens[2].decode()), reading.weight.unit) == reading.weight


class TestMtSicsContract(ScaleDriverContract):
    driver_name = "mt-sics"
    settings: ClassVar[dict[str, Any]] = {"mode": "poll", "poll_interval_s": 0.02}
    stable_weight = Weight.parse("1.025kg")
    moving_weight = Weight.parse("0.980kg")

    def stable_frame(self) -> bytes:
        return b"S S      1.025 kg\r\n"

    def moving_frame(self) -> bytes:
        return b"S D      0.980 kg\r\n"

    def respond(self, request: bytes) -> bytes:
        if request in {b"SI", b"S"}:
            return self.frame
        if request == b"I2":
            return b'I2 A "Bench 6kg"\r\n'
        if request in {b"I4", b"@"}:
            return b'I4 A "0123456789"\r\n'
        return b""


@pytest.fixture
def scale() -> Iterator[FakeMtSicsScale]:
    fake = FakeMtSicsScale()
    yield fake
    fake.close()


def _first_weight(driver: MtSicsScale) -> Weight:
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        for reading in driver.read():
            if reading.weight is not None:
                return reading.weight
    raise AssertionError("no weight")


def test_continuous_mode_reads_the_sir_stream_and_identity(scale: FakeMtSicsScale) -> None:
    scale.set_weight("2.500")
    driver = MtSicsScale(Settings(port=scale.path))
    try:
        identity = driver.open()
        assert identity.serial == "B123456789"
        assert identity.model == "WMS-Bench 6kg 6.000 kg"
        assert _first_weight(driver) == Weight.parse("2.5kg")
        assert b"SIR" in scale.peer.requests
    finally:
        driver.close()


def test_zero_restarts_the_stream(scale: FakeMtSicsScale) -> None:
    driver = MtSicsScale(Settings(port=scale.path))
    try:
        driver.open()
        assert driver.send(ScaleCommand.ZERO)
        deadline = time.monotonic() + 2
        while scale.zeroed == 0 and time.monotonic() < deadline:
            driver.read()
        assert scale.zeroed == 1
        scale.set_weight("0.750")
        assert _first_weight(driver) in {Weight.parse("0kg"), Weight.parse("0.75kg")}
        assert _first_weight(driver) == Weight.parse("0.75kg")
    finally:
        driver.close()


def test_a_device_that_never_answers_is_diagnosed_with_the_port_settings() -> None:
    from scale_agent.testing.pty_peer import PtyPeer  # noqa: PLC0415

    mute = PtyPeer(lambda _request: b"")
    driver = MtSicsScale(Settings(port=mute.path, baudrate=4800, bytesize=7, parity="E"))
    try:
        with pytest.raises(DeviceUnavailableError, match=r"no MT-SICS answer .* 4800 baud 7E1"):
            driver.open()
    finally:
        driver.close()
        mute.close()


def test_a_busy_port_is_diagnosed(scale: FakeMtSicsScale) -> None:
    first = MtSicsScale(Settings(port=scale.path))
    second = MtSicsScale(Settings(port=scale.path))
    try:
        first.open()
        with pytest.raises(DeviceUnavailableError, match="busy"):
            second.open()
    finally:
        first.close()
        second.close()


class _SerialServer:
    """A serial-to-Ethernet converter in TCP server mode, with an MT-SICS scale behind it."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _ = self.listener.accept()
        with connection:
            buffer = b""
            while True:
                data = connection.recv(1024)
                if not data:
                    return
                buffer += data
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    answer = {
                        b"I2": b'I2 A "Net 6kg"\r\n',
                        b"I4": b'I4 A "NET42"\r\n',
                        b"SIR": b"S S      0.333 kg\r\n" * 5,
                    }.get(line.strip(), b"")
                    connection.sendall(answer)

    def close(self) -> None:
        self.listener.close()
        self.thread.join(timeout=3)


def test_mt_sics_works_over_a_socket_url() -> None:
    server = _SerialServer()
    driver = MtSicsScale(Settings(port=f"socket://127.0.0.1:{server.port}"))
    try:
        assert driver.open().serial == "NET42"
        assert _first_weight(driver) == Weight.parse("333g")
    finally:
        driver.close()
        server.close()
