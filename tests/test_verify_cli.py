"""`scale-agent verify`: the command-line contract."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from scale_agent.io.ledger import Ledger
from scale_agent.tools.cli import main
from tests.conftest import REPO

CATALOG = REPO / "config" / "catalog.example.csv"

if TYPE_CHECKING:
    from pathlib import Path

ORDER_B = {
    "order_id": "B",
    "lines": [
        {"sku": "S150", "qty": 1, "unit_weight": "150g", "spread": "2g"},
        {"sku": "S420", "qty": 2, "unit_weight": "420g", "spread": "4g"},
    ],
    "carton": {"id": "BOX", "tare": "35g", "spread": "3.354g"},
}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["verify", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_output_has_every_key_of_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "--order", json.dumps(ORDER_B), "--weight", "879g", "--scale-interval", "2g"
    )
    result = json.loads(out)
    assert code == 0
    assert {
        "verdict",
        "expected_g",
        "lower_g",
        "upper_g",
        "guard_g",
        "measured_g",
        "difference_g",
        "policy",
        "explanation",
        "detectable",
    } <= set(result)
    assert result["verdict"] == "MISSING_ITEM"
    assert result["explanation"][0] == {
        "sku": "S150",
        "qty": 1,
        "direction": "missing",
        "fit_sigma": 0.57,
        "hypothesis": 1,
    }
    assert result["difference_g"] == -146.0
    assert result["detectable"] is True


@pytest.mark.parametrize("weight", ["1.025kg", "1025g", "36.155852oz", "2.259757lb"])
def test_every_unit_gives_the_same_verdict(capsys: pytest.CaptureFixture[str], weight: str) -> None:
    _, out, _ = run(capsys, "--order", json.dumps(ORDER_B), "--weight", weight)
    assert json.loads(out)["verdict"] == "PASS"


def test_the_order_can_come_from_a_file_and_the_catalog(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    order = tmp_path / "order.json"
    order.write_text(
        json.dumps({"order_id": "C", "lines": [{"sku": "SKU-1023", "qty": 2}], "carton": "BOX-S"})
    )
    catalog = str(REPO / "config" / "catalog.example.csv")
    code, out, _ = run(capsys, "--order", f"@{order}", "--catalog", catalog, "--weight", "186g")
    assert code == 0
    assert json.loads(out)["verdict"] == "MISSING_ITEM"
    code, out, _ = run(
        capsys,
        "--order",
        '{"order_id": "D", "lines": [{"sku": "NEW", "qty": 1}]}',
        "--catalog",
        catalog,
        "--weight",
        "186g",
    )
    assert (code, json.loads(out)["verdict"]) == (0, "UNKNOWN_SKU")


def test_a_policy_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "tight.toml"
    policy.write_text('[tolerance]\nname = "tight"\nunder_g = 5\nunder_pct = 0\nguard = "none"\n')
    _, out, _ = run(
        capsys, "--order", json.dumps(ORDER_B), "--weight", "1019g", "--policy", str(policy)
    )
    result = json.loads(out)
    assert (result["verdict"], result["lower_g"], result["policy"]) == ("UNDER", 1020.0, "tight@1")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--order", "{", "--weight", "1g"], "not valid JSON"),
        (["--order", json.dumps(ORDER_B), "--weight", "1025"], "is not a weight"),
        (["--order", json.dumps(ORDER_B), "--weight", "1kg", "--policy", "nope"], "no such file"),
        (["--order", "@/nonexistent/order.json", "--weight", "1kg"], "No such file"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, *args)
    assert (code, out) == (2, "")
    assert message in err


ONE_CASE = '{"order_id": "SO-1", "lines": [{"sku": "SKU-1023", "qty": 1}], "carton": "BOX-S"}'


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (
            [
                "verify",
                "--order",
                ONE_CASE,
                "--weight",
                "185g",
                "--scale-interval",
                "0g",
                "--catalog",
                str(CATALOG),
            ],
            "--scale-interval 0g: must be above zero",
        ),
        (
            [
                "verify",
                "--order",
                ONE_CASE,
                "--weight",
                "185g",
                "--scale-interval=-1g",
                "--catalog",
                str(CATALOG),
            ],
            "--scale-interval -1g: must be above zero",
        ),
        (
            ["verify", "--order", ONE_CASE, "--weight", "-5g", "--catalog", str(CATALOG)],
            "--weight -5g: must not be negative",
        ),
        (
            [
                "verify",
                "--order",
                ONE_CASE,
                "--weight",
                "9999999999999999999999g",
                "--catalog",
                str(CATALOG),
            ],
            "must be at most 1000.000 kg",
        ),
        (
            ["verify", "--order", ONE_CASE, "--weight", "185g"],
            "unknown SKU: SKU-1023, and no catalog was given",
        ),
        (["decode", "--protocol", "nci", "--hex", "zz"], "--hex 'zz': not hex bytes"),
        (["demo", "--mqtt", "broker:1883"], "--mqtt 'broker:1883': write mqtt://host:1883"),
    ],
)
def test_a_user_mistake_is_one_sentence_and_exit_2(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert says in capsys.readouterr().err


def test_demo_data_dir_on_a_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "not-a-folder"
    afile.write_text("x")
    assert main(["demo", "--mqtt", "none", "--data-dir", str(afile), "--parcels", "1"]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_a_negative_parcel_count_is_refused_by_the_parser(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["demo", "--parcels", "-3"])
    assert stopped.value.code == 2
    assert "must be 1 or more, not -3" in capsys.readouterr().err


def test_check_config_takes_dash_c_like_every_other_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    example = str(REPO / "config" / "station.example.toml")
    assert main(["check-config", "-c", example]) == 0
    assert main(["check-config", example]) == 0
    assert capsys.readouterr().out.count(": OK (station") == 2


def test_export_into_a_closed_pipe_is_no_traceback(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    for number in range(2000):
        ledger.record(
            f"p{number}",
            order_id=f"SO-{number}",
            verdict="PASS",
            recorded_at="2026-11-01T10:00:00+00:00",
            body={"reason": "ok" * 50},
            outgoing=[],
        )
    ledger.close()
    export = subprocess.Popen(
        [sys.executable, "-m", "scale_agent", "records", "export", "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert export.stdout is not None
    export.stdout.readline()  # `| head -1`
    export.stdout.close()
    _, err = export.communicate(timeout=30)
    assert export.returncode == 0
    assert b"Traceback" not in err
