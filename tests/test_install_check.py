"""`install-check` run as root asks what the service user may do, not what root may."""

from __future__ import annotations

import grp
from pathlib import Path
from typing import TYPE_CHECKING

from scale_agent.tools.operations import Account, _device_findings

if TYPE_CHECKING:
    from tests.fakes.mt_sics_scale import FakeMtSicsScale


def test_a_port_root_can_open_but_the_service_user_cannot_is_a_failure(
    scale: FakeMtSicsScale,
) -> None:
    nobody = Account.named("nobody")
    assert nobody is not None
    group = grp.getgrgid(Path(scale.path).stat().st_gid).gr_name  # root here, dialout on a PC
    [finding] = _device_findings(scale.path, nobody, "the service user nobody")
    assert finding.level == "FAIL"  # root may open it; install-check as root said OK before
    assert f"the service user nobody may not read and write {scale.path}" in finding.what
    assert f"usermod -aG {group} scale-agent" in finding.what


def test_the_same_port_is_fine_for_an_account_in_its_group(scale: FakeMtSicsScale) -> None:
    nobody = Account.named("nobody")
    assert nobody is not None
    info = Path(scale.path).stat()
    Path(scale.path).chmod(0o660)
    try:
        member = Account("operator", nobody.uid, nobody.gids | {info.st_gid})
        [finding] = _device_findings(scale.path, member, "the service user operator")
        assert finding.level == "OK"
        assert "readable and writable by the service user operator" in finding.what
    finally:
        Path(scale.path).chmod(info.st_mode & 0o7777)
