"""`scale-agent decode`, `read` and `probe`, as an integrator runs them."""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING

import pytest

from scale_agent.testing.pty_peer import PtyPeer
from scale_agent.tools.cli import main
from tests.drivers.scales.frames import even_parity, toledo
from tests.station_files import write_station

if TYPE_CHECKING:
    from pathlib import Path

    from tests.fakes.mt_sics_scale import FakeMtSicsScale

KEYS = [
    "protocol",
    "kind",
    "value",
    "unit",
    "stable",
    "mode",
    "overload",
    "underload",
    "error",
    "raw",
]


def decode(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    assert main(["decode", *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_decode_prints_exactly_the_contract_keys(capsys: pytest.CaptureFixture[str]) -> None:
    [line] = decode(capsys, "--protocol", "gs-nt", "--hex", "53542c4e542c2b303031322e33346b670d0a")
    assert list(line) == KEYS
    assert line == {
        "protocol": "gs-nt",
        "kind": "weight",
        "value": 12.34,
        "unit": "kg",
        "stable": True,
        "mode": "net",
        "overload": False,
        "underload": False,
        "error": None,
        "raw": "53542c4e542c2b303031322e33346b670d0a",
    }


def test_decode_reads_a_capture_file_with_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "capture.bin"
    capture.write_bytes(
        even_parity(toledo(0x2C, 0x20, 0x20, "001250", checksum="none") + b"\x02garbage\r")
    )
    lines = decode(
        capsys, "--protocol", "toledo-continuous", "--option", "checksum=none", str(capture)
    )
    assert [(line["kind"], line["value"], line["unit"]) for line in lines] == [
        ("weight", 12.5, "lb"),
        ("error", None, None),
    ]


def test_decode_line_with_a_pattern_and_a_count(capsys: pytest.CaptureFixture[str]) -> None:
    [line] = decode(
        capsys,
        "--protocol",
        "line",
        "--pattern",
        r"^N (?P<value>\d+) pcs$",
        "--option",
        "unit=pcs",
        "--hex",
        b"N 125 pcs\r\n".hex(),
    )
    assert (line["kind"], line["value"], line["unit"]) == ("weight", 125.0, "pcs")


def test_bad_input_never_makes_decode_exit_non_zero(capsys: pytest.CaptureFixture[str]) -> None:
    lines = decode(capsys, "--protocol", "ad", "--hex", "ff00ff0d0a")
    assert [line["kind"] for line in lines] == ["error"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--protocol", "sics"], "not installed"),
        (["--protocol", "nci", "--option", "parity=X"], "parity"),
    ],
)
def test_bad_arguments_are_clear(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["decode", *args, "--hex", "00"]) == 2
    assert message in capsys.readouterr().err


def test_read_prints_live_readings_from_the_configured_scale(
    tmp_path: Path, scale: FakeMtSicsScale, capsys: pytest.CaptureFixture[str]
) -> None:
    scale.set_weight("1.025")
    config = write_station(tmp_path, scale.path, None)
    assert main(["read", "-c", str(config), "--count", "3"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 3
    assert lines[-1]["value"] == 1.025
    assert lines[-1]["unit"] == "kg"


def test_read_ends_a_lost_link_with_an_error_line_in_the_stream(
    tmp_path: Path, scale: FakeMtSicsScale, capsys: pytest.CaptureFixture[str]
) -> None:
    scale.set_weight("1.025")
    config = write_station(tmp_path, scale.path, None)
    threading.Timer(0.5, scale.unplug).start()
    assert main(["read", "-c", str(config)]) == 1
    captured = capsys.readouterr()
    last = json.loads(captured.out.splitlines()[-1])
    assert (last["kind"], last["error"]) == ("error", "link_lost")
    assert "disconnected" in last["reason"]
    assert "scale-agent read:" in captured.err


def test_probe_finds_a_7e1_nci_scale_that_only_answers_questions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def respond(request: bytes) -> bytes:
        # Earlier questions (SI CR LF) leave their LF in front of the next request.
        return even_parity(b"\n  1.25lb\r\n00\r\x03") if request.strip() == b"W" else b""

    peer = PtyPeer(respond, terminator=b"\r")
    try:
        assert main(["probe", peer.path, "--seconds", "0.3"]) == 0
    finally:
        peer.close()
    out = capsys.readouterr().out
    assert 'driver = "nci"' in out
    assert 'parity = "E"' in out
    assert 'mode = "poll"' in out


def test_probe_recognises_a_streaming_scale(capsys: pytest.CaptureFixture[str]) -> None:
    peer = PtyPeer(lambda _request: b"")
    stop = False

    def stream() -> None:
        import time  # noqa: PLC0415

        while not stop:
            peer.push(b"ST,GS,+0012.34kg\r\n")
            time.sleep(0.05)

    import threading  # noqa: PLC0415

    thread = threading.Thread(target=stream, daemon=True)
    thread.start()
    try:
        assert main(["probe", peer.path, "--seconds", "0.4"]) == 0
    finally:
        stop = True
        thread.join(timeout=2)
        peer.close()
    out = capsys.readouterr().out
    assert 'driver = "gs-nt"' in out
    assert 'mode = "continuous"' in out
    assert 'parity = "N"' in out


def test_probe_says_so_when_nothing_answers(capsys: pytest.CaptureFixture[str]) -> None:
    peer = PtyPeer(lambda _request: b"")
    try:
        assert main(["probe", peer.path, "--seconds", "0.05"]) == 1
    finally:
        peer.close()
    assert "no known protocol answered" in capsys.readouterr().out
