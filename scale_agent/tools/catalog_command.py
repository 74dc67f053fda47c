"""`scale-agent catalog audit`: which declared SKU weights the station's scale disagrees with.

Reads the ledger read-only (`--data-dir`, or the station file's data folder and catalog),
estimates every SKU's real unit weight and spread (`scale_agent.domain.catalog_audit`), and
lists what is off and by how much. `--write FILE` writes a corrected catalog for review;
the live catalog is never changed. `--publish` sends the findings to the station's
`catalog_audit` topic, retained, for the central monitor to pool.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from scale_agent.domain.catalog_audit import (
    NOT_A_WEIGHING,
    Declared,
    Finding,
    Parcel,
    audit,
    corrected,
    weighed_parcel,
)
from scale_agent.errors import UsageError
from scale_agent.text import printable
from scale_agent.tools import records
from scale_agent.tools.records_command import data_dir

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable

    from scale_agent.domain.catalog import Catalog
    from scale_agent.io.config import StationConfig

# Verdicts whose measured weight says nothing about the parcel's contents.


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `catalog audit`."""
    parser = commands.add_parser("catalog", help="check the catalog against what was weighed")
    actions = parser.add_subparsers(dest="action", required=True)
    check = actions.add_parser("audit", help="SKUs whose declared weight or spread is off")
    where = check.add_mutually_exclusive_group()
    where.add_argument("--data-dir", help="the station's ledger folder")
    where.add_argument("-c", "--config", help="station TOML (its ledger and catalog)")
    check.add_argument(
        "--min-samples", type=int, default=20, help="parcels a SKU needs (default: %(default)s)"
    )
    check.add_argument("--write", metavar="FILE", help="write a corrected catalog CSV to review")
    check.add_argument("--json", action="store_true", help="print the findings as JSON")
    check.add_argument(
        "--publish", action="store_true", help="send the findings to MQTT (retained); needs -c"
    )
    check.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Audit the ledger; 0 whether or not something is off (the listing says)."""
    if args.min_samples < 3:  # noqa: PLR2004 - no estimate from fewer
        raise UsageError(f"--min-samples {args.min_samples}: must be 3 or more")
    config = _config(args)
    if (args.write or args.publish) and config is None:
        raise UsageError("--write and --publish need the station file: -c STATION.toml")
    ledger = records.open_ledger(data_dir(args))
    try:
        history = ledger.records()
    finally:
        ledger.close()
    parcels, declared, since = parcels_from(history, config.catalog if config else None)
    findings = audit(parcels, declared, min_samples=args.min_samples)
    if args.json:
        print(json.dumps([_as_json(f) for f in findings], indent=2, ensure_ascii=False))
    else:
        print_table(findings, len(parcels), sys.stdout)
    if args.write and config is not None:
        write_catalog(Path(args.write), config.catalog, findings, len(parcels))
        print(f"corrected catalog written to {args.write}: review it, then replace the live one")
    if args.publish and config is not None:
        _publish(config, findings, len(parcels), since)
    return 0


def _config(args: argparse.Namespace) -> StationConfig | None:
    if not args.config:
        return None
    from scale_agent.io.config import load_config  # noqa: PLC0415 - only with -c

    return load_config(Path(args.config))


def parcels_from(
    history: Iterable[dict[str, Any]], catalog: Catalog | None
) -> tuple[list[Parcel], dict[str, Declared], datetime | None]:
    """The weighings in ledger records, and the declared weights (the catalog's, if given)."""
    parcels: list[Parcel] = []
    declared: dict[str, Declared] = {}
    since: datetime | None = None
    for record in history:
        body = json.loads(record["body"])
        order, measured = body.get("order"), body.get("measured")
        if (
            record["verdict"] in NOT_A_WEIGHING
            or body.get("override")  # the same weighing as the verdict it overrides
            or not order
            or not measured
        ):
            continue
        lines = []
        for line in order["lines"]:
            lines.append((str(line["sku"]), int(line["qty"]), float(line["spread_g"])))
            # The newest record says what was declared last (records come oldest first).
            declared[line["sku"]] = Declared(
                float(line["unit_g"]), float(line["spread_g"]), str(line["name"])
            )
        carton = order["carton"]
        parcels.append(
            weighed_parcel(
                lines, float(measured["value"]), float(carton["tare_g"]), float(carton["spread_g"])
            )
        )
        at = datetime.fromisoformat(record["recorded_at"])
        since = at if since is None or at < since else since
    if catalog is not None:
        declared = {
            sku: Declared(float(item.weight.in_grams), float(item.spread.in_grams), item.name)
            for sku, item in catalog.skus.items()
        }
    return parcels, declared, since


def print_table(findings: list[Finding], parcels: int, out: TextIO) -> None:
    """One line per SKU, flagged ones first."""
    flagged = sum(1 for f in findings if f.is_flagged)
    out.write(f"{parcels} judged parcel(s); {len(findings)} SKU(s) with enough of them; ")
    out.write(f"{flagged} to review\n")
    if not findings:
        return
    rows = [("SKU", "name", "parcels", "declared", "measured (95% CI)", "diff", "spread", "")]
    for f in findings:
        spread = f"{f.declared_spread_g:g} g"
        if f.estimated_spread_g is not None:
            spread += f" -> {f.estimated_spread_g:.1f} g"
        verdict = " and ".join(
            word
            for word, on in (("WEIGHT OFF", f.is_weight_off), ("SPREAD WIDER", f.is_spread_off))
            if on
        )
        rows.append(
            (
                printable(f.sku),
                printable(f.name),
                str(f.samples),
                f"{f.declared_g:g} g",
                f"{f.estimated_g:.1f} g ({f.ci_low_g:.1f}-{f.ci_high_g:.1f})",
                f"{f.difference_pct:+.1f}%",
                spread,
                verdict,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        out.write(line.rstrip() + "\n")


def write_catalog(path: Path, catalog: Catalog, findings: list[Finding], parcels: int) -> None:
    """The catalog with the flagged weights and spreads replaced by the measured ones."""
    by_sku = {f.sku: f for f in findings if f.is_flagged}
    languages = sorted({language for item in catalog.skus.values() for language, _ in item.names})
    header = ["kind", "id", "name", "weight", "spread", "policy", "counted", "gtin"]
    header += [f"name_{language}" for language in languages]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    with path.open("w", encoding="utf-8", newline="") as file:
        file.write(
            f"# corrected by scale-agent catalog audit, {stamp}, from {parcels} judged "
            f"parcel(s): {len(by_sku)} SKU(s) changed. Review before use.\n"
        )
        writer = csv.writer(file)
        writer.writerow(header)
        for kind, table in (("sku", catalog.skus), ("carton", catalog.cartons)):
            for item in table.values():
                weight, spread = str(item.weight), str(item.spread)
                finding = by_sku.get(item.id) if kind == "sku" else None
                if finding is not None and finding.is_weight_off:
                    weight = f"{corrected(finding.estimated_g)}g"
                if finding is not None and finding.is_spread_off and finding.estimated_spread_g:
                    spread = f"{corrected(finding.estimated_spread_g)}g"
                names = dict(item.names)
                writer.writerow(
                    [
                        kind,
                        item.id,
                        item.name,
                        weight,
                        spread,
                        item.policy or "",
                        "yes" if item.is_counted else "",
                        item.gtin or "",
                        *(names.get(language, "") for language in languages),
                    ]
                )


def _as_json(finding: Finding) -> dict[str, Any]:
    return {
        "sku": finding.sku,
        "name": finding.name,
        "parcels": finding.samples,
        "declared_g": finding.declared_g,
        "measured_g": round(finding.estimated_g, 2),
        "ci_g": [round(finding.ci_low_g, 2), round(finding.ci_high_g, 2)],
        "difference_pct": round(finding.difference_pct, 2),
        "declared_spread_g": finding.declared_spread_g,
        "measured_spread_g": (
            None if finding.estimated_spread_g is None else round(finding.estimated_spread_g, 2)
        ),
        "is_weight_off": finding.is_weight_off,
        "is_spread_off": finding.is_spread_off,
    }


def _publish(
    config: StationConfig, findings: list[Finding], parcels: int, since: datetime | None
) -> None:
    """Send the findings to the station's `catalog_audit` topic, retained."""
    from decimal import Decimal  # noqa: PLC0415

    from scale_agent.io.messages import CatalogAuditPayload, Mass, SkuFinding, Topics  # noqa: PLC0415
    from scale_agent.io.mqtt import publish_once  # noqa: PLC0415 - paho only when publishing

    def mass(grams: float) -> Mass:
        return Mass(value=round(grams, 3))

    # A SKU the fit could not pin down is named, never sent as a made-up 0 g estimate.
    undetermined = [f.sku for f in findings if not f.is_determined]

    station = config.agent.station
    payload = CatalogAuditPayload(
        site=station.site,
        line=station.line,
        station=station.id,
        parcels=parcels,
        since=since,
        findings=[
            SkuFinding(
                sku=f.sku,
                name=f.name,
                parcels=f.samples,
                declared=mass(f.declared_g),
                measured=mass(f.estimated_g),
                ci_low=mass(f.ci_low_g),
                ci_high=mass(f.ci_high_g),
                difference_pct=round(f.difference_pct, 2),
                declared_spread=mass(f.declared_spread_g),
                measured_spread=None
                if f.estimated_spread_g is None
                else Mass.of(Decimal(str(f.estimated_spread_g))),
                is_weight_off=f.is_weight_off,
                is_spread_off=f.is_spread_off,
            )
            for f in findings
            if f.is_determined
        ],
        undetermined=undetermined,
    )
    topic = Topics(station.site, station.line, station.id).catalog_audit
    publish_once(config.agent.mqtt, topic, payload.model_dump_json().encode(), retain=True)
    left_out = f"; not determined, so left out: {', '.join(undetermined)}" if undetermined else ""
    print(f"findings published to {topic} (retained){left_out}")
