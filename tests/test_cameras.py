"""Camera drivers against real peers: a Digest-auth HTTP camera and ffmpeg's own test source."""

from __future__ import annotations

import io
import socket
import time
from typing import TYPE_CHECKING

import pytest
from PIL import Image, ImageStat

from drivers.cameras import ffmpeg, http_snapshot
from scale_agent.errors import DeviceError, DeviceTimeoutError, DeviceUnavailableError
from scale_agent.io.photos import PhotoState, PhotoStore, check, digest, stamp
from scale_agent.tools.cli import main
from tests.fakes.camera_server import DigestCamera
from tests.station_files import write_station

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def camera() -> Iterator[DigestCamera]:
    with DigestCamera() as server:
        yield server


def snapshot(url: str, password: str = "Secret-123", timeout_s: float = 2.0) -> bytes:  # noqa: S107
    settings = http_snapshot.Settings(
        url=url, username="admin", password=password, timeout_s=timeout_s
    )
    return http_snapshot.DRIVER(settings).capture()


def test_a_hikvision_style_camera_answers_with_digest_auth(camera: DigestCamera) -> None:
    image = Image.open(io.BytesIO(snapshot(camera.url)))
    assert image.format == "JPEG"
    assert image.size == (640, 480)


def test_a_wrong_password_is_said_plainly(camera: DigestCamera) -> None:
    with pytest.raises(DeviceError, match="HTTP 401: wrong user name or password"):
        snapshot(camera.url, password="nope")  # noqa: S106 - a wrong one on purpose


def test_a_camera_that_hangs_is_given_up_within_its_timeout(camera: DigestCamera) -> None:
    camera.hang.set()
    started = time.monotonic()
    with pytest.raises(DeviceTimeoutError, match=r"sent no whole photo within 0\.5 s"):
        snapshot(camera.url, timeout_s=0.5)
    assert time.monotonic() - started < 2.0


def test_a_camera_that_is_gone_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DeviceUnavailableError, match="unreachable"):
        snapshot(f"http://127.0.0.1:{port}/ISAPI/Streaming/channels/101/picture")


def test_a_page_that_is_not_a_picture_is_refused(camera: DigestCamera) -> None:
    camera.image = b"<html>login</html>"
    with pytest.raises(DeviceError, match="did not send a JPEG"):
        snapshot(camera.url)


def test_ffmpeg_takes_one_frame_of_its_test_source() -> None:
    settings = ffmpeg.Settings(input="testsrc=size=320x240:rate=10", format="lavfi")
    image = Image.open(io.BytesIO(ffmpeg.DRIVER(settings).capture()))
    assert image.size == (320, 240)


def test_ffmpeg_says_why_an_input_cannot_be_opened() -> None:
    settings = ffmpeg.Settings(input="/dev/video-none", format="v4l2", timeout_s=5)
    with pytest.raises(DeviceError, match="/dev/video-none"):
        ffmpeg.DRIVER(settings).capture()


def test_ffmpeg_that_never_returns_is_killed_at_its_bound(tmp_path: Path) -> None:
    stuck = tmp_path / "stuck-ffmpeg"
    stuck.write_text("#!/bin/sh\nexec sleep 30\n")
    stuck.chmod(0o755)
    settings = ffmpeg.Settings(input="x", timeout_s=0.5, executable=str(stuck))
    started = time.monotonic()
    with pytest.raises(DeviceTimeoutError, match=r"no frame within 0\.5 s"):
        ffmpeg.DRIVER(settings).capture()
    assert time.monotonic() - started < 3.0


def test_the_stamp_is_drawn_into_the_picture(camera: DigestCamera) -> None:
    original = camera.image
    stamped = stamp(original, ["SO-1002  MISSING_ITEM  726 g", "2026-12-02 20:23 CST 缺件"])
    before, after = (Image.open(io.BytesIO(data)).convert("L") for data in (original, stamped))
    assert after.size == before.size
    band = (0, before.height - 30, before.width, before.height)
    darkness = [ImageStat.Stat(image.crop(band)).mean[0] for image in (before, after)]
    assert darkness[1] < darkness[0] - 40  # a dark band under the stamp


def test_the_store_keeps_photos_whole_within_quota_and_notices_tampering(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path, quota_bytes=2500, keep_days=30)
    now = time.time()
    photos = [store.save(bytes([n]) * 1000, f"parcel-{n}", now) for n in range(3)]
    gone = check(tmp_path, photos[0].relative, photos[0].sha256)  # over quota
    assert gone.state is PhotoState.GONE
    assert "is missing" in str(gone.reason)
    held = check(tmp_path, photos[2].relative, photos[2].sha256)
    assert held.state is PhotoState.HELD
    assert held.data == bytes([2]) * 1000
    (tmp_path / photos[2].relative).write_bytes(b"\x00" * 1000)
    altered = check(tmp_path, photos[2].relative, photos[2].sha256)
    assert altered.state is PhotoState.ALTERED
    assert "altered" in str(altered.reason)
    assert photos[1].sha256 == digest(bytes([1]) * 1000)


def test_camera_snap_takes_a_stamped_photo_from_the_station_file(
    tmp_path: Path, camera: DigestCamera, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_station(tmp_path, "/dev/null", None, site="cam")
    config.write_text(
        config.read_text() + f'\n[camera]\ndriver = "http-snapshot"\nurl = "{camera.url}"\n'
        'username = "admin"\npassword = "Secret-123"\nquota_mb = 5\n'
    )
    assert main(["camera", "snap", "-c", str(config), "--order", "SO-7"]) == 0
    out = capsys.readouterr().out
    assert "photo from http://127.0.0.1:" in out
    [kept] = (tmp_path / "data" / "photos").glob("*/*.jpg")
    assert digest(kept.read_bytes()) in out
    camera.hang.set()
    config.write_text(config.read_text().replace("quota_mb = 5", "quota_mb = 5\ntimeout_s = 0.3"))
    assert main(["camera", "snap", "-c", str(config)]) == 1
    assert "sent no whole photo within 0.3 s" in capsys.readouterr().err


def test_a_camera_that_trickles_bytes_misses_one_deadline_for_the_whole_photo(
    camera: DigestCamera,
) -> None:
    # A byte every 0.2 s never trips a per-read timeout of 0.5 s: the photo would take hours.
    camera.trickle_s = 0.2
    started = time.monotonic()
    with pytest.raises(DeviceTimeoutError, match=r"sent no whole photo within 0\.5 s"):
        snapshot(camera.url, timeout_s=0.5)
    assert time.monotonic() - started < 1.5
    camera.trickle_s = None  # the link recovers: the next photo is whole
    assert Image.open(io.BytesIO(snapshot(camera.url))).size == (640, 480)
