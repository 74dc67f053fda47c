"""Tolerance policies against reference/metrology.md: the TNE table, scale MPE, guard bands."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import ValidationError

from scale_agent.domain.catalog import Catalog, Item, load_catalog
from scale_agent.domain.jobs import Job, JobLine
from scale_agent.domain.policies import Band, Policy, scale_mpe_g, tne_g
from scale_agent.domain.verifier import VerdictKind, judge, plan
from scale_agent.errors import CatalogError, ConfigError
from scale_agent.io.config import load_config
from scale_agent.tools.cli import main
from scale_agent.weights import Weight
from tests.station_files import write_station

if TYPE_CHECKING:
    from pathlib import Path

W = Weight.parse
D = Decimal

# Both sides of every band edge. Percent rows round T up to 0.1 g up to 1 kg and to whole
# grams above, so just past 100 g, 300 g, 1 kg and 15 kg the rounding shows.
TNE_EDGES = [
    ("49.9", "4.5"),
    ("50", "4.5"),
    ("50.1", "4.5"),
    ("99.9", "4.5"),
    ("100", "4.5"),
    ("100.1", "4.6"),
    ("199.9", "9.0"),
    ("200", "9"),
    ("200.1", "9"),
    ("299.9", "9"),
    ("300", "9"),
    ("300.1", "9.1"),
    ("499.9", "15.0"),
    ("500", "15"),
    ("500.1", "15"),
    ("999.9", "15"),
    ("1000", "15"),
    ("1000.1", "16"),
    ("9999.9", "150"),
    ("10000", "150"),
    ("10000.1", "150"),
    ("14999.9", "150"),
    ("15000", "150"),
    ("15000.1", "151"),
    ("49999", "500"),
    ("50000", "500"),
]


@pytest.mark.parametrize(("nominal", "tne"), TNE_EDGES)
def test_tolerable_negative_error_at_every_band_edge(nominal: str, tne: str) -> None:
    assert tne_g(D(nominal)) == D(tne)


@pytest.mark.parametrize("nominal", ["0", "-5", "50000.1"])
def test_the_table_ends_where_the_law_ends(nominal: str) -> None:
    with pytest.raises(ValueError, match="TNE table covers"):
        tne_g(D(nominal))


def cli_verify(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["verify", *args]) == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def single(grams: str) -> str:
    return json.dumps({"order_id": "L", "lines": [{"sku": "P", "qty": 1, "unit_weight": grams}]})


@pytest.mark.parametrize(("nominal", "tne"), TNE_EDGES[:-2])
def test_the_legal_lower_limit_is_nominal_minus_tne_on_both_sides_of_each_edge(
    capsys: pytest.CaptureFixture[str], nominal: str, tne: str
) -> None:
    result = cli_verify(
        capsys, "--order", single(f"{nominal}g"), "--weight", f"{nominal}g", "--policy", "legal"
    )
    assert result["lower_g"] == float(D(nominal) - D(tne))
    assert result["verdict"] == "PASS"


# Example A (metrology.md section 9): one 500 g item on a 6 kg x 2 g scale in service.
@pytest.mark.parametrize(
    ("net", "verdict", "words"),
    [
        ("486", "RECHECK", "within 2.3 g of the lower limit"),  # T1 limit 485 g +- 2.3 g
        ("488", "PASS", "within limits"),
        ("480", "UNDER", "T1 shortfall"),
        ("472.4", "UNDER", "T1 shortfall"),  # not a provable T2 pack (guarded acceptance)
        ("467.6", "UNDER", "T2 shortfall"),  # T2 proven: below 470 - 2.3 g
    ],
)
def test_example_a_legal_single_pack(
    capsys: pytest.CaptureFixture[str], net: str, verdict: str, words: str
) -> None:
    result = cli_verify(
        capsys,
        "--order",
        single("500g"),
        "--weight",
        f"{net}g",
        "--policy",
        "legal",
        "--scale-interval",
        "2g",
    )
    assert (result["verdict"], result["lower_g"], result["guard_g"]) == (verdict, 485.0, 2.309)
    assert words in result["reason"]


def test_t1_may_be_a_recheck_by_policy_but_t2_always_fails() -> None:
    job = Job("A", (JobLine("P", 1, W("500g"), W("0g")),))
    lenient = Policy(kind="legal", legal_t1="recheck", scale_interval_g=D(2))
    expectation = plan(job, Catalog(), lenient)
    assert judge(expectation, W("480g")).kind is VerdictKind.RECHECK
    assert judge(expectation, W("467g")).kind is VerdictKind.UNDER


def test_the_legal_policy_refuses_a_mixed_parcel(capsys: pytest.CaptureFixture[str]) -> None:
    order = json.dumps(
        {
            "order_id": "M",
            "lines": [
                {"sku": "A", "qty": 1, "unit_weight": "150g"},
                {"sku": "B", "qty": 1, "unit_weight": "9g"},
            ],
        }
    )
    assert main(["verify", "--order", order, "--weight", "159g", "--policy", "legal"]) == 2
    assert "single-SKU parcels" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("load", "initial", "in_service"),
    [
        ("500", "1", "2"),
        ("1000", "1", "2"),
        ("1002", "2", "4"),
        ("4000", "2", "4"),
        ("4002", "3", "6"),
        ("6000", "3", "6"),
    ],
)
def test_scale_error_of_a_6kg_by_2g_class_iii_scale(
    load: str, initial: str, in_service: str
) -> None:
    # metrology.md 6.1: <= 1 kg +-1/+-2 g; 1-4 kg +-2/+-4 g; 4-6 kg +-3/+-6 g
    assert scale_mpe_g(D(load), D(2), "III", in_service=False) == D(initial)
    assert scale_mpe_g(D(load), D(2), "III", in_service=True) == D(in_service)


def test_weight_bands_pick_the_row_for_the_expected_weight() -> None:
    bands = Policy(
        kind="bands",
        guard="none",
        bands=[
            Band(up_to_g=D(500), under_g=D(10), over_g=D(10)),
            Band(up_to_g=D(2000), under_pct=D(2), over_pct=D(2)),
        ],
    )
    small = plan(Job("S", (JobLine("A", 1, W("400g"), W("0g")),)), Catalog(), bands)
    large = plan(Job("L", (JobLine("A", 1, W("1500g"), W("0g")),)), Catalog(), bands)
    assert (small.lower_g, small.upper_g) == (D(390), D(410))
    assert (large.lower_g, large.upper_g) == (D(1470), D(1530))


def test_bands_must_rise() -> None:
    with pytest.raises(ValidationError, match="rising up_to_g"):
        Policy(kind="bands", bands=[Band(up_to_g=D(500)), Band(up_to_g=D(100))])


def test_k_sigma_limits_follow_the_combined_spread() -> None:
    sigma = Policy(kind="sigma", k_under=D(3), k_over=D(4), guard="none")
    expectation = plan(Job("K", (JobLine("A", 1, W("400g"), W("3g")),)), Catalog(), sigma)
    tiny = D("1e-20")  # Decimal keeps 28 digits; subtracting from 400 g loses the last ones
    assert abs(expectation.expected_g - expectation.lower_g - 3 * expectation.sigma_g) < tiny
    assert abs(expectation.upper_g - expectation.expected_g - 4 * expectation.sigma_g) < tiny


def test_without_a_guard_band_the_limit_is_a_coin_toss_and_with_one_it_is_a_recheck() -> None:
    job = Job("G", (JobLine("A", 1, W("1000g"), W("1g")),))
    sharp = plan(job, Catalog(), Policy(guard="none"))
    guarded = plan(job, Catalog(), Policy())
    at_limit = W(f"{sharp.lower_g + D('0.5')}g")
    assert judge(sharp, at_limit).kind is VerdictKind.PASS
    assert judge(guarded, at_limit).kind is VerdictKind.RECHECK


def test_a_sku_override_policy_judges_orders_that_contain_it_strictest_first() -> None:
    catalog = Catalog(
        skus={
            "GLASS": Item("GLASS", "Glass", W("300g"), W("1g"), policy="tight"),
            "BOOK": Item("BOOK", "Book", W("420g"), W("2g"), policy="loose"),
            "MUG": Item("MUG", "Mug", W("342g"), W("2g")),
        }
    )
    overrides = {
        "tight": Policy(name="tight", under_g=D(5), under_pct=None),
        "loose": Policy(name="loose", under_g=D(50), under_pct=None),
    }
    both = plan(Job("O", (JobLine("GLASS", 1), JobLine("BOOK", 1))), catalog, Policy(), overrides)
    plain = plan(Job("P", (JobLine("MUG", 1),)), catalog, Policy(), overrides)
    assert both.policy.name == "tight"
    assert both.expected_g - both.lower_g == 5
    assert plain.policy.name == "default"


def test_counted_goods_are_named_in_a_pass() -> None:
    catalog = Catalog(
        skus={"BAGS": Item("BAGS", "150 bin bags", W("600g"), W("3g"), is_counted=True)}
    )
    expectation = plan(Job("C", (JobLine("BAGS", 1),)), catalog, Policy())
    verdict = judge(expectation, W("601g"))
    assert verdict.kind is VerdictKind.PASS
    assert "counted goods: check the count of BAGS" in verdict.reason


def test_a_toml_catalog_reports_problems_by_line(tmp_path: Path) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text(
        '[[sku]]\nid = "A"\nname = "Mug"\nweight = "342g"\nspread = "2g"\ncounted = true\n\n'
        '[[sku]]\nid = "B"\nweight = "12"\nspread = "1g"\n\n'
        '[[carton]]\nid = "BOX"\nweight = "35g"\nspread = "1g"\ncolour = "red"\n'
    )
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert [str(p).split(": ", 1)[0] for p in caught.value.problems] == [f"{path}:8", f"{path}:13"]
    path.write_text(
        '[[sku]]\nid = "A"\nname = "Mug"\nweight = "342g"\nspread = "2g"\n'
        'counted = true\npolicy = "tight"\n'
    )
    item = load_catalog(path).skus["A"]
    assert item.is_counted
    assert item.policy == "tight"


def test_a_catalog_naming_an_undefined_policy_is_a_config_problem(tmp_path: Path) -> None:
    path = write_station(tmp_path, "/dev/ttyUSB0", None)
    catalog = tmp_path / "catalog.csv"
    lines = catalog.read_text().splitlines()
    lines[0] += ",policy,counted"
    lines[1:] = [line + ",," for line in lines[1:]]
    lines[1] = lines[1].replace(",,", ",fragile,no")
    catalog.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    [problem] = caught.value.problems
    assert str(problem) == f"{catalog}:2: policy 'fragile' is not defined ([policies.fragile])"
    path.write_text(path.read_text() + "\n[policies.fragile]\nunder_g = 5\nunder_pct = 0\n")
    assert load_config(path).agent.policies["fragile"].under_g == 5
