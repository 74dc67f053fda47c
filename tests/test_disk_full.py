"""A full disk never produces a PASS without its evidence.

The station's data folder is on a small filesystem the test mounts (tmpfs, 4 MB). With the
disk filled, a correct parcel is not shown PASS: the ledger refuses its record, the station
shows FAULT ("records not kept") and judges nothing; `health` says the disk is low. Once space
is freed, the parcel still on the platter is judged again and passes, with its record.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from typing import TYPE_CHECKING

from scale_agent.io.ledger import Ledger
from scale_agent.signals import Signal
from scale_agent.testing import wait_until
from tests.fakes.mt_sics_scale import FakeMtSicsScale
from tests.fakes.recording_light import RecordingLight
from tests.station_files import write_station
from tests.station_harness import running_station

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import pytest

ORDER = {"lines": [{"sku": "SKU-1023", "qty": 1}, {"sku": "SKU-2040", "qty": 2}], "carton": "BOX-S"}


@contextlib.contextmanager
def small_disk(folder: Path, size: str = "4m") -> Iterator[Path]:
    """A tmpfs of `size` mounted on `folder` (the test runs as root, as CI does)."""
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def fill(folder: Path) -> Path:
    """Write a file until the disk is full; its path (delete it to free the space)."""
    filler = folder / "filler"
    with filler.open("wb") as file:
        try:
            while True:
                file.write(b"\0" * 65536)
                file.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_shows_fault_not_pass_and_the_parcel_passes_once_space_is_back(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    scale, light = FakeMtSicsScale(), RecordingLight()
    request.addfinalizer(scale.close)
    with small_disk(tmp_path / "disk") as disk:
        config = write_station(disk, scale.path, None, station_keys="disk_warn_free_mb = 2")
        with running_station(config, light) as station:
            wait_until(lambda: light.signals()[-1:] == [Signal.IDLE])
            filler = fill(disk)
            station.submit_job_data(json.dumps({**ORDER, "order_id": "SO-FULL"}).encode(), "t")
            wait_until(lambda: light.signals()[-1:] == [Signal.READY])
            scale.set_weight("1.025")  # a correct parcel
            wait_until(lambda: light.signals()[-1:] == [Signal.FAULT])
            assert Signal.PASS not in light.signals()
            assert "cannot keep its records" in light.shown[-1].text
            storage = station.storage()
            assert storage.is_low
            assert storage.ledger_problem is not None
            filler.unlink()  # maintenance frees space; the parcel is still on the platter
            wait_until(lambda: light.signals()[-1:] == [Signal.PASS], timeout=15)
        ledger = Ledger(disk / "data", read_only=True)
        try:
            assert [r["verdict"] for r in ledger.records("SO-FULL")] == ["PASS"]
        finally:
            ledger.close()
