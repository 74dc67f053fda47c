"""The SKU catalog and the carton list, from a CSV or a TOML file.

CSV columns: `kind` (`sku` or `carton`), `id`, `name`, `weight` (with its unit: `150g`,
`0.33lb`), `spread` (one standard deviation of that weight, with its unit), and optionally
`policy` (a named policy from the station config that judges orders with this SKU) and
`counted` (`yes` for counted goods: the weight checks the packs, not what is inside them) and
`gtin` (the GTIN-8/12/13/14 on the item's barcode, so a scanned GS1 code finds its SKU) and
`price` (the unit price in the site's currency, `12.50`: a claim's refund is priced with it) and
`name_zh_CN`, `name_de`, ... (the name in a packer's language: the screen shows it there).
Lines starting with `#` are comments.

TOML: `[[sku]]` and `[[carton]]` tables with the same keys (`counted = true`).

Every problem is reported with `file:line`, all of them at once.
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scale_agent.domain.declared import declared_problem, parse_price
from scale_agent.errors import CatalogError, Problem, WeightFormatError
from scale_agent.weights import Weight

if TYPE_CHECKING:
    from decimal import Decimal
    from pathlib import Path

COLUMNS = ("kind", "id", "name", "weight", "spread")
OPTIONAL_COLUMNS = ("policy", "counted", "gtin", "price")
NAME_PREFIX = "name_"  # name_zh_CN, name_de: translations of `name`
_YES = {"yes", "true", "1", "y"}
_NO = {"no", "false", "0", "n", ""}


@dataclass(frozen=True)
class Item:
    """A SKU or a carton: its declared weight and how much single pieces vary (1 sigma)."""

    id: str
    name: str
    weight: Weight
    spread: Weight
    policy: str | None = None
    is_counted: bool = False
    gtin: str | None = None  # as 14 digits
    names: tuple[tuple[str, str], ...] = ()  # (language, name): `name_zh_CN` and the like
    price: Decimal | None = None  # unit price in the site's currency
    where: str = ""  # file:line, for messages about this item later (an unknown policy)


@dataclass(frozen=True)
class Catalog:
    """SKUs and cartons by id."""

    skus: dict[str, Item] = field(default_factory=dict)
    cartons: dict[str, Item] = field(default_factory=dict)
    source: str = ""

    def sku_for_gtin(self, gtin: str) -> Item | None:
        """The SKU whose barcode carries this GTIN (any length; compared as GTIN-14)."""
        wanted = gtin.zfill(14)
        for item in self.skus.values():
            if item.gtin == wanted:
                return item
        return None


def _parse_item(row: dict[str, Any], where: str, problems: list[Problem]) -> Item | None:
    before = len(problems)
    weights: dict[str, Weight] = {}
    for column in ("weight", "spread"):
        try:
            weights[column] = Weight.parse(str(row.get(column, "")))
        except WeightFormatError as exc:
            problems.append(Problem(where, f"{column}: {exc}"))
    identifier = str(row.get("id") or "")
    if not identifier:
        problems.append(Problem(where, "id is empty"))
    for column, weight in weights.items():
        if problem := declared_problem("weight" if column == "weight" else "spread", weight):
            problems.append(Problem(where, f"{column} {problem}"))
    counted = row.get("counted", False)
    if isinstance(counted, str):
        if counted.lower() not in _YES | _NO:
            problems.append(Problem(where, f"counted must be yes or no, not {counted!r}"))
        counted = counted.lower() in _YES
    gtin = str(row.get("gtin") or "").strip()
    if gtin and not is_valid_gtin(gtin):
        problems.append(Problem(where, f"gtin {gtin!r} is not a GTIN (8-14 digits, check digit)"))
    price = _price(row.get("price"), where, problems)
    if len(problems) > before:
        return None
    return Item(
        identifier,
        str(row.get("name") or identifier),
        weights["weight"],
        weights["spread"],
        policy=str(row["policy"]) if row.get("policy") else None,
        is_counted=bool(counted),
        gtin=gtin.zfill(14) if gtin else None,
        names=tuple(
            (str(key)[len(NAME_PREFIX) :], str(value).strip())
            for key, value in row.items()
            if str(key).startswith(NAME_PREFIX) and value and str(value).strip()
        ),
        price=price,
        where=where,
    )


def _price(value: object, where: str, problems: list[Problem]) -> Decimal | None:
    text = str(value if value is not None else "").strip()
    if not text:
        return None
    try:
        return parse_price(text)
    except ValueError as exc:
        problems.append(Problem(where, f"price: {exc}"))
        return None


def is_valid_gtin(text: str) -> bool:
    """True for a GTIN-8/12/13/14 whose check digit is right (GS1 General Specifications 7.9)."""
    if not text.isdigit() or len(text) not in {8, 12, 13, 14}:
        return False
    digits = [int(c) for c in text.zfill(18)]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(digits[:-1]))
    return (10 - total % 10) % 10 == digits[-1]


def _add(catalog: Catalog, kind: str, item: Item, where: str, problems: list[Problem]) -> None:
    table = catalog.skus if kind == "sku" else catalog.cartons
    if item.id in table:
        problems.append(Problem(where, f"duplicate {kind} id {item.id!r}"))
    else:
        table[item.id] = item


def _read_csv(path: Path, text: str, catalog: Catalog, problems: list[Problem]) -> None:
    lines = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        problems.append(Problem(str(path), "catalog is empty"))
        return
    header_number, header = lines[0]
    columns = tuple(name.strip() for name in next(csv.reader([header])))
    extra = {name for name in columns[len(COLUMNS) :] if not name.startswith(NAME_PREFIX)}
    if columns[: len(COLUMNS)] != COLUMNS or not extra <= set(OPTIONAL_COLUMNS):
        problems.append(
            Problem(
                f"{path}:{header_number}",
                f"header must be {','.join(COLUMNS)} "
                f"(then optionally {','.join(OPTIONAL_COLUMNS)} and name_<language>)",
            )
        )
        return
    for number, line in lines[1:]:
        where = f"{path}:{number}"
        cells = [cell.strip() for cell in next(csv.reader([line]))]
        if len(cells) != len(columns):
            problems.append(Problem(where, f"expected {len(columns)} columns, got {len(cells)}"))
            continue
        row = dict(zip(columns, cells, strict=True))
        if row["kind"] not in {"sku", "carton"}:
            problems.append(Problem(where, f"kind must be sku or carton, not {row['kind']!r}"))
            continue
        item = _parse_item(row, where, problems)
        if item is not None:
            _add(catalog, row["kind"], item, where, problems)


def _table_lines(text: str) -> dict[str, list[int]]:
    """The line of each `[[sku]]` and `[[carton]]` header (tomllib keeps no positions)."""
    headers: dict[str, list[int]] = {"sku": [], "carton": []}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip().replace(" ", "")
        for kind, numbers in headers.items():
            if stripped.startswith(f"[[{kind}]]"):
                numbers.append(number)
    return headers


def _read_toml(path: Path, text: str, catalog: Catalog, problems: list[Problem]) -> None:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(Problem(str(path), f"not valid TOML: {exc}"))
        return
    headers = _table_lines(text)
    problems.extend(
        Problem(str(path), f"unknown table {key!r} (use [[sku]] or [[carton]])")
        for key in data
        if key not in headers
    )
    for kind, numbers in headers.items():
        entries = data.get(kind, [])
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            where = f"{path}:{numbers[index] if index < len(numbers) else '?'}"
            unknown = set(entry) - {*COLUMNS, *OPTIONAL_COLUMNS}
            if unknown:
                problems.append(Problem(where, f"unknown key(s): {', '.join(sorted(unknown))}"))
                continue
            item = _parse_item(entry, where, problems)
            if item is not None:
                _add(catalog, kind, item, where, problems)


def load_catalog(path: Path) -> Catalog:
    """Read a catalog, CSV or (by its `.toml` suffix) TOML.

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
    if path.suffix.lower() == ".toml":
        _read_toml(path, text, catalog, problems)
    else:
        _read_csv(path, text, catalog, problems)
    if problems:
        raise CatalogError(str(path), problems)
    return catalog
