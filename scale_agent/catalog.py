"""The SKU catalog and the carton list, read from one CSV file.

Columns: `kind` (`sku` or `carton`), `id`, `name`, `weight` (with its unit: `150g`, `0.33lb`),
`spread` (one standard deviation of that weight, with its unit). Lines starting with `#` are
comments. Every problem is reported with `file:line`, all of them at once.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scale_agent.errors import CatalogError, Problem, WeightFormatError
from scale_agent.weights import Weight

if TYPE_CHECKING:
    from pathlib import Path

COLUMNS = ("kind", "id", "name", "weight", "spread")


@dataclass(frozen=True)
class Item:
    """A SKU or a carton: its declared weight and how much single pieces vary (1 sigma)."""

    id: str
    name: str
    weight: Weight
    spread: Weight


@dataclass(frozen=True)
class Catalog:
    """SKUs and cartons by id."""

    skus: dict[str, Item] = field(default_factory=dict)
    cartons: dict[str, Item] = field(default_factory=dict)
    source: str = ""


def _parse_row(row: dict[str, str], where: str, problems: list[Problem]) -> Item | None:
    before = len(problems)
    weights: dict[str, Weight] = {}
    for column in ("weight", "spread"):
        try:
            weights[column] = Weight.parse(row[column])
        except WeightFormatError as exc:
            problems.append(Problem(where, f"{column}: {exc}"))
    if not row["id"]:
        problems.append(Problem(where, "id is empty"))
    if "weight" in weights and weights["weight"].value <= 0:
        problems.append(Problem(where, "weight must be above zero"))
    if "spread" in weights and weights["spread"].value < 0:
        problems.append(Problem(where, "spread must not be negative"))
    if len(problems) > before:
        return None
    return Item(row["id"], row["name"] or row["id"], weights["weight"], weights["spread"])


def load_catalog(path: Path) -> Catalog:
    """Read a catalog CSV.

    Raises:
        CatalogError: with every problem found, each located as `file:line`.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(
            str(path), [Problem(str(path), f"cannot read catalog: {exc.strerror}")]
        ) from exc
    problems: list[Problem] = []
    catalog = Catalog(source=str(path))
    lines = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise CatalogError(str(path), [Problem(str(path), "catalog is empty")])
    header_number, header = lines[0]
    columns = tuple(name.strip() for name in next(csv.reader([header])))
    if columns != COLUMNS:
        raise CatalogError(
            str(path),
            [Problem(f"{path}:{header_number}", f"header must be {','.join(COLUMNS)}")],
        )
    for number, line in lines[1:]:
        where = f"{path}:{number}"
        cells = [cell.strip() for cell in next(csv.reader([line]))]
        if len(cells) != len(COLUMNS):
            problems.append(Problem(where, f"expected {len(COLUMNS)} columns, got {len(cells)}"))
            continue
        row = dict(zip(COLUMNS, cells, strict=True))
        table = {"sku": catalog.skus, "carton": catalog.cartons}.get(row["kind"])
        if table is None:
            problems.append(Problem(where, f"kind must be sku or carton, not {row['kind']!r}"))
            continue
        item = _parse_row(row, where, problems)
        if item is None:
            continue
        if item.id in table:
            problems.append(Problem(where, f"duplicate {row['kind']} id {item.id!r}"))
            continue
        table[item.id] = item
    if problems:
        raise CatalogError(str(path), problems)
    return catalog
