"""Drivers join through entry points; a broken one is listed as unavailable, with the reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from scale_agent.errors import UnknownDriverError
from scale_agent.plugins import SCALE_GROUP, SCANNER_GROUP, describe_drivers, load_driver
from scale_agent.tools.cli import main

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def third_party_drivers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Install, as a separate distribution would, one good and one broken scale driver."""
    dist = tmp_path / "acme_scales-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-scales\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[scale_agent.scales]\nacme = acme_scale\nacme-usb = acme_usb\n"
        "[scale_agent.jobs]\nacme-wand = acme_scale\n"  # a scanner, under the old group name
    )
    (tmp_path / "acme_scale.py").write_text(
        '"""ACME bench scale."""\nfrom scale_agent.plugins import DriverSettings\n'
        "class Settings(DriverSettings):\n    port: str\nDRIVER = object\n"
    )
    (tmp_path / "acme_usb.py").write_text("import acme_missing_vendor_library\n")
    monkeypatch.syspath_prepend(str(tmp_path))


@pytest.mark.usefixtures("third_party_drivers")
def test_a_third_party_driver_is_found_through_its_entry_point() -> None:
    module = load_driver(SCALE_GROUP, "acme")
    settings = module.Settings.model_validate({"port": "/dev/ttyS0"})
    assert settings.model_dump() == {"port": "/dev/ttyS0"}


@pytest.mark.usefixtures("third_party_drivers")
def test_a_driver_that_cannot_be_imported_is_listed_with_the_reason(
    capsys: pytest.CaptureFixture[str],
) -> None:
    [broken] = [info for info in describe_drivers() if info.name == "acme-usb"]
    assert not broken.is_available
    assert "acme_missing_vendor_library" in broken.reason
    assert main(["drivers"]) == 0
    assert "acme-usb           UNAVAILABLE: cannot be imported: ModuleNotFoundError" in (
        capsys.readouterr().out
    )
    with pytest.raises(UnknownDriverError, match="cannot be imported"):
        load_driver(SCALE_GROUP, "acme-usb")


@pytest.mark.usefixtures("third_party_drivers")
def test_a_scanner_registered_under_the_old_group_name_is_still_found() -> None:
    assert load_driver(SCANNER_GROUP, "acme-wand").Settings is not None
    assert load_driver(SCANNER_GROUP, "serial-scanner").DRIVER is not None  # ours, new group
