from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from scale_agent.errors import EX_CONFIG, ConfigError
from scale_agent.io.config import load_config
from scale_agent.tools.cli import main
from tests.conftest import REPO
from tests.station_files import write_station

if TYPE_CHECKING:
    from pathlib import Path


def test_the_example_config_is_valid() -> None:
    config = load_config(REPO / "config" / "station.example.toml")
    assert config.agent.scale.driver == "mt-sics"
    assert "SKU-1023" in config.catalog.skus
    assert config.agent.settle.fault_after_s == 2
    assert config.agent.scale.weighing_range.capacity_g == 6000


def test_a_negative_scale_capacity_is_a_config_problem(tmp_path: Path) -> None:
    path = write_station(tmp_path, "/dev/ttyUSB0", None)
    text = path.read_text().replace(
        'port = "/dev/ttyUSB0"', 'port = "/dev/ttyUSB0"\ncapacity = "-6kg"'
    )
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    [problem] = caught.value.problems
    assert problem.location == "scale.capacity"
    assert "above zero" in problem.message


def test_the_demo_runs_on_the_example_catalog() -> None:
    example = (REPO / "config" / "catalog.example.csv").read_text()
    assert (REPO / "scale_agent" / "data" / "demo-catalog.csv").read_text() == example


def _broken(tmp_path: Path) -> Path:
    path = write_station(tmp_path, "/dev/ttyUSB0", None)
    text = path.read_text()
    text = text.replace('id = "bench-1"', 'id = "bench 1"')  # 1: not topic-safe
    text = text.replace('port = "/dev/ttyUSB0"', 'port = "/dev/ttyUSB0"\nbaudrat = 9600')  # 2
    text = text.replace("timeout_s = 5", "timeout_s = -5")  # 3: negative
    path.write_text(text)
    return path


def test_every_problem_is_reported_at_once_with_its_location(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_broken(tmp_path))
    locations = [problem.location for problem in caught.value.problems]
    assert sorted(locations) == ["scale.baudrat", "settle.timeout_s", "station.id"]


def test_check_config_names_all_three_mistakes_and_exits_78(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config", str(_broken(tmp_path))]) == EX_CONFIG
    err = capsys.readouterr().err
    assert "3 problem(s)" in err
    for location in ("station.id", "scale.baudrat: unknown key", "settle.timeout_s"):
        assert location in err


def test_check_config_exits_0_for_a_good_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config", str(write_station(tmp_path, "/dev/ttyUSB0", None))]) == 0
    assert "OK" in capsys.readouterr().out


def test_an_unknown_driver_is_named_with_the_installed_ones(tmp_path: Path) -> None:
    path = write_station(tmp_path, "/dev/ttyUSB0", None)
    path.write_text(path.read_text().replace('driver = "mt-sics"', 'driver = "mt-sisc"'))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    [problem] = caught.value.problems
    assert problem.location == "scale.driver"
    assert "not installed" in problem.message
    assert "mt-sics" in problem.message


def test_catalog_problems_carry_file_and_line(tmp_path: Path) -> None:
    path = write_station(tmp_path, "/dev/ttyUSB0", None)
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(
        catalog.read_text() + "sku,SKU-X,Bad,150,2g\nbox,B,Box,1g,0g\nsku,SKU-1023,Dup,1g,0g\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    messages = [str(problem) for problem in caught.value.problems]
    assert len(messages) == 3
    assert messages[0].startswith(f"{catalog}:9: weight")
    assert messages[1].startswith(f"{catalog}:10: kind must be")
    assert messages[2].startswith(f"{catalog}:11: duplicate sku")


def test_a_file_that_is_not_toml_is_one_clear_problem(tmp_path: Path) -> None:
    path = tmp_path / "station.toml"
    path.write_text("[station\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_drivers_lists_every_installed_driver(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drivers"]) == 0
    out = capsys.readouterr().out
    for name in ("mt-sics", "simulated", "console"):
        assert f" {name} " in out
    assert "UNAVAILABLE" not in out


def test_missing_mqtt_credential_files_are_reported_before_anything_connects(
    tmp_path: Path,
) -> None:
    path = write_station(
        tmp_path,
        "/dev/ttyUSB0",
        "mqtts://broker:8883",
        extra='username = "bench-1"\npassword_file = "secret"\ncert_file = "bench.crt"\n',
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert sorted(str(p) for p in caught.value.problems) == [
        "mqtt.cert_file: file not found: " + str(tmp_path / "bench.crt"),
        "mqtt.key_file: cert_file needs its key_file",
        "mqtt.password_file: file not found: " + str(tmp_path / "secret"),
    ]
    (tmp_path / "secret").write_text("pw\n")
    (tmp_path / "bench.crt").write_text("cert\n")
    path.write_text(path.read_text().replace('cert_file = "bench.crt"', ""))
    config = load_config(path)
    assert config.agent.mqtt.password_file == tmp_path / "secret"  # relative to the file
