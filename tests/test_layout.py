"""The plug-in boundary is real: the core imports no driver and no hardware library."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from tests.conftest import REPO

if TYPE_CHECKING:
    from pathlib import Path

HARDWARE = {"serial", "pymodbus", "hid"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_core_module_imports_drivers_or_hardware_libraries() -> None:
    offenders = {
        str(path.relative_to(REPO)): sorted(_imports(path) & (HARDWARE | {"drivers"}))
        for path in (REPO / "scale_agent").rglob("*.py")
    }
    assert {name: bad for name, bad in offenders.items() if bad} == {}


def test_only_the_mqtt_module_imports_paho() -> None:
    users = sorted(
        str(path.relative_to(REPO))
        for path in (REPO / "scale_agent").rglob("*.py")
        if "paho" in _imports(path)
    )
    assert users == ["scale_agent/mqtt.py"]


def test_the_boundary_check_would_notice_a_drivers_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("from drivers.scales import mt_sics\nimport serial\n")
    assert _imports(module) >= {"drivers", "serial"}
