"""`scale-agent verify`: the command-line contract."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from scale_agent.tools.cli import main
from tests.conftest import REPO

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
