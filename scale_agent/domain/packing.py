"""Item-by-item packing: each scanned item must show up on the platter as its own weight.

Pure. After an item scan the next settled platter weight must have risen by that SKU's unit
weight, within its spread (three sigma, at least `min_band_g`). Otherwise the packer hears
about it at once, before the next item goes in:

- rise of about two units for one scan: two items placed, one scanned;
- no rise, and the next scan (or close) arrives: the item was scanned but not placed (a double
  scan of one item shows up exactly so);
- any other rise: a different item was placed than the one scanned;
- an item not on the order, or more of it than ordered: refused at the scan.

The parcel's final check (the verifier, on the whole weight) still runs when the order is
complete or the packer scans "close".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from scale_agent.domain.phrases import Grams, ItemName, phrase

if TYPE_CHECKING:
    from scale_agent.domain.catalog import Catalog
    from scale_agent.domain.jobs import Job
    from scale_agent.domain.phrases import Phrase

SIGMAS = Decimal(3)


@dataclass(frozen=True)
class ItemCheck:
    """The outcome of a scan or a settled weight: `problem` is None when all is well."""

    problem: Phrase | None = None
    is_complete: bool = False  # every ordered unit scanned and seen on the platter


@dataclass
class ItemTracker:
    """What has been scanned and seen for one order."""

    job: Job
    catalog: Catalog
    min_band_g: Decimal = Decimal(5)
    remaining: dict[str, int] = field(default_factory=dict)
    baseline_g: Decimal | None = None  # the settled platter weight before the pending scan
    pending: str | None = None  # the SKU scanned and not yet seen on the platter

    def __post_init__(self) -> None:
        for line in self.job.lines:
            self.remaining[line.sku] = self.remaining.get(line.sku, 0) + line.qty

    @property
    def packed(self) -> int:
        """Units seen on the platter so far."""
        return self.ordered - sum(self.remaining.values()) - (1 if self.pending else 0)

    def scan(self, sku: str) -> ItemCheck:
        """An item was scanned."""
        if self.pending is not None:
            missing, self.pending = self.pending, None
            self.remaining[missing] += 1
            return ItemCheck(
                phrase(
                    "{item} was scanned but not placed on the scale: place it",
                    item=self.name(missing),
                )
            )
        if sku not in self.remaining:
            return ItemCheck(
                phrase(
                    "{item} is not on order {order}: take it out",
                    item=self.name(sku),
                    order=self.job.order_id,
                )
            )
        if self.remaining[sku] == 0:
            return ItemCheck(
                phrase(
                    "{item}: all {count} ordered are already packed",
                    item=self.name(sku),
                    count=self._ordered(sku),
                )
            )
        self.remaining[sku] -= 1
        self.pending = sku
        return ItemCheck()

    def settled(self, platter_g: Decimal) -> ItemCheck:
        """The platter settled at a new weight `platter_g`.

        The baseline moves only when an item is accepted, so taking a wrong item out again
        brings the platter back to where it was without another complaint.
        """
        baseline = self.baseline_g
        if baseline is None or (
            self.pending is None and abs(platter_g - baseline) <= self.min_band_g * 2
        ):
            self.baseline_g = platter_g  # the empty carton, or a few grams of drift
            return ItemCheck(is_complete=self._is_complete())
        rise = platter_g - baseline
        if self.pending is None:
            return ItemCheck(
                phrase(
                    "The weight changed by {amount} with no item scanned: scan every item",
                    amount=Grams(rise),
                )
            )
        sku = self.pending
        unit_g, band = self._unit(sku)
        if unit_g is None or abs(rise - unit_g) <= band:
            self.pending, self.baseline_g = None, platter_g
            return ItemCheck(is_complete=self._is_complete())
        if abs(rise) <= band:
            return ItemCheck()  # nothing placed yet: keep waiting for it
        self.pending = None
        self.remaining[sku] += 1  # not accepted: scan it again once it is right
        if abs(rise - 2 * unit_g) <= band * 2:
            return ItemCheck(
                phrase(
                    "Two {item} placed for one scan: take one out and scan each item",
                    item=self.name(sku),
                )
            )
        return ItemCheck(
            phrase(
                "The weight rose by {rise}, but {item} weighs {unit}: wrong item? Take it out",
                rise=Grams(rise),
                item=self.name(sku),
                unit=Grams(unit_g),
            )
        )

    def name(self, sku: str) -> ItemName:
        """The SKU's catalog name (with its translations); the code when it has none."""
        item = self.catalog.skus.get(sku)
        return ItemName(item.name, item.names) if item else ItemName(sku)

    @property
    def ordered(self) -> int:
        """Units on the order."""
        return sum(line.qty for line in self.job.lines)

    def _unit(self, sku: str) -> tuple[Decimal | None, Decimal]:
        """The SKU's unit weight (declared on the order, else the catalog's) and its band."""
        item = self.catalog.skus.get(sku)
        line = next(line for line in self.job.lines if line.sku == sku)
        weight = line.unit_weight or (item.weight if item else None)
        spread = line.spread or (item.spread if item else None)
        band = max(self.min_band_g, SIGMAS * spread.in_grams if spread else Decimal(0))
        return (weight.in_grams if weight else None), band

    def _ordered(self, sku: str) -> int:
        return sum(line.qty for line in self.job.lines if line.sku == sku)

    def _is_complete(self) -> bool:
        return self.pending is None and not any(self.remaining.values())
