"""A photo of each parcel at its verdict, in the hash chain, never delaying the light.

A real station (MT-SICS scale on a pty) with a local Digest-auth HTTP camera on the
Hikvision picture path: the photo is stamped, kept, and its SHA-256 appended to the chain;
`records verify` notices an edited photo; a camera that hangs leaves the verdict on time
and shows in health.
"""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import time
from typing import TYPE_CHECKING, Any

from PIL import Image

from scale_agent.io.photos import digest
from scale_agent.signals import Signal
from scale_agent.testing import wait_until
from scale_agent.tools.cli import main
from tests.fakes.camera_server import DigestCamera
from tests.fakes.recording_light import RecordingLight
from tests.station_files import write_station
from tests.station_harness import running_station

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from scale_agent.station.runtime import StationRuntime
    from tests.fakes.mt_sics_scale import FakeMtSicsScale

ORDER = {"lines": [{"sku": "SKU-1023", "qty": 1}, {"sku": "SKU-2040", "qty": 2}], "carton": "BOX-S"}


def camera_station(
    tmp_path: Path, scale: FakeMtSicsScale, camera: DigestCamera, timeout_s: float
) -> Path:
    extra = (
        f'\n[camera]\ndriver = "http-snapshot"\nurl = "{camera.url}"\n'
        f'username = "admin"\npassword = "Secret-123"\ntimeout_s = {timeout_s}\n'
    )
    return write_station(tmp_path, scale.path, None, site="cam", extra=extra)


def pack(
    runtime: StationRuntime, scale: FakeMtSicsScale, light: RecordingLight, order_id: str
) -> float:
    """Pack one parcel; return the seconds from the stable weight to the PASS light."""
    runtime.submit_job_data(json.dumps({**ORDER, "order_id": order_id}).encode(), "test")
    wait_until(lambda: any(f"Order {order_id}:" in i.text for i in light.shown[-1:]))
    started = time.monotonic()
    scale.set_weight("1.025")
    wait_until(lambda: light.signals()[-1:] == [Signal.PASS])
    took = time.monotonic() - started
    scale.set_weight("0.000")
    wait_until(lambda: light.signals()[-1:] == [Signal.IDLE])
    return took


def pdf_text(pdf: Path) -> str:
    done = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
    return " ".join(done.stdout.split())


def pdf_pages(pdf: Path) -> list[str]:
    """Each page's text, line by line, as pdftotext lays it out."""
    done = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
    return done.stdout.split("\f")


def status(data: Path) -> dict[str, Any]:
    """The health the station writes beside its ledger every second (`status.json`)."""
    try:
        return dict(json.loads((data / "status.json").read_text()))
    except (OSError, ValueError):
        return {}


def photo_records(data: Path) -> list[dict[str, object]]:
    db = sqlite3.connect(f"{(data / 'ledger.sqlite3').as_uri()}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT order_id, body FROM verdicts WHERE verdict = 'PHOTO'").fetchall()
    finally:
        db.close()
    return [{"order_id": order, **json.loads(body)} for order, body in rows]


def test_each_verdict_gets_a_stamped_photo_whose_hash_is_in_the_chain(
    tmp_path: Path, scale: FakeMtSicsScale, capsys: pytest.CaptureFixture[str]
) -> None:
    light = RecordingLight()
    with DigestCamera() as camera:
        config = camera_station(tmp_path, scale, camera, 2.0)
        data = tmp_path / "data"
        with running_station(config, light) as runtime:
            pack(runtime, scale, light, "SO-P1")
            wait_until(lambda: len(photo_records(data)) == 1)
            wait_until(lambda: (status(data).get("camera") or {}).get("state") == "ok")
    [photo] = photo_records(data)
    assert photo["order_id"] == "SO-P1"
    assert photo["moment"] == "verdict"
    kept = data / str(photo["file"])
    assert digest(kept.read_bytes()) == photo["sha256"]
    assert Image.open(io.BytesIO(kept.read_bytes())).size == (640, 480)
    assert kept.read_bytes() != camera.image  # the stamped copy is what is kept
    assert main(["records", "find", "SO-P1", "--data-dir", str(data)]) == 0
    assert "PHOTO at the verdict of parcel" in capsys.readouterr().out
    assert main(["records", "verify", "--data-dir", str(data)]) == 0
    assert "photos: 1 hold their recorded SHA-256" in capsys.readouterr().out
    report = tmp_path / "SO-P1.pdf"
    assert main(["records", "report", "SO-P1", "--data-dir", str(data), "--pdf", str(report)]) == 0
    capsys.readouterr()
    text = pdf_text(report)
    assert str(photo["file"]) in text
    assert "matches its recorded SHA-256" in text
    # Laid out as a reader expects: no page ends on a heading, the photo and the weight trace
    # are both there (each with its heading), the verification paragraph is with its block.
    headings = {"Items in the order", "Photos", "Weight trace", "Every weighing of this order"}
    for page in pdf_pages(report):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        assert not lines or lines[-1] not in headings | {"Verification"}, lines[-1]
    assert all(heading in text for heading in headings - {"Every weighing of this order"})
    images = subprocess.run(
        ["pdfimages", "-list", str(report)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert len(images) == 2  # the photo and the weight trace
    kept.write_bytes(kept.read_bytes()[:-10] + b"0123456789")
    assert main(["records", "verify", "--data-dir", str(data)]) == 1
    assert "PHOTO ALTERED at record" in capsys.readouterr().out
    assert main(["records", "report", "SO-P1", "--data-dir", str(data), "--pdf", str(report)]) == 0
    altered = pdf_text(report)
    assert "ALTERED: does not match" in altered
    first_page = " ".join(pdf_pages(report)[0].split())
    assert "A photo of this parcel does not match its recorded SHA-256." in first_page


def test_a_hanging_camera_delays_no_verdict_and_shows_in_health(
    tmp_path: Path, scale: FakeMtSicsScale
) -> None:
    light = RecordingLight()
    with DigestCamera() as camera:
        camera.hang.set()
        config = camera_station(tmp_path, scale, camera, 3.0)
        with running_station(config, light) as runtime:
            took = pack(runtime, scale, light, "SO-H1")
            # The light came while the camera was still hanging on the first request:
            assert camera.requests >= 1
            assert photo_records(tmp_path / "data") == []
            assert took < 2.0
            data = tmp_path / "data"
            wait_until(
                lambda: (status(data).get("camera") or {}).get("state") == "fault", timeout=10
            )
            assert "sent no whole photo within 3.0 s" in status(data)["camera"]["fault_reason"]
            took_again = pack(runtime, scale, light, "SO-H2")  # the station goes on
            assert took_again < 2.0


def test_ffmpegs_test_source_standing_in_for_a_usb_camera_gives_a_photo_per_verdict(
    tmp_path: Path, scale: FakeMtSicsScale
) -> None:
    extra = (
        '\n[camera]\ndriver = "ffmpeg"\ninput = "testsrc=size=640x480:rate=10"\n'
        'format = "lavfi"\ntimeout_s = 10\n'
    )
    config = write_station(tmp_path, scale.path, None, site="cam", extra=extra)
    light = RecordingLight()
    data = tmp_path / "data"
    with running_station(config, light) as runtime:
        pack(runtime, scale, light, "SO-F1")
        pack(runtime, scale, light, "SO-F2")
        wait_until(lambda: len(photo_records(data)) == 2, timeout=20)
    photos = photo_records(data)
    assert [p["order_id"] for p in photos] == ["SO-F1", "SO-F2"]
    for photo in photos:
        assert digest((data / str(photo["file"])).read_bytes()) == photo["sha256"]
        assert photo["camera"] == "testsrc=size=640x480:rate=10"
