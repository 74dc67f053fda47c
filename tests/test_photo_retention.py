"""The station's bounded copy: photos are pruned by age and quota, never before the central
holds them (real files in a real folder, times set on them)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from scale_agent.io.photos import PhotoStore

if TYPE_CHECKING:
    from pathlib import Path

DAY = 86_400.0


def _photos(store: PhotoStore, ages_days: list[float], now: float) -> list[str]:
    names = []
    for number, age in enumerate(ages_days):
        photo = store.save(b"\xff\xd8" + b"x" * 1000, f"p{number}", now - age * DAY)
        path = store.data_dir / photo.relative
        os.utime(path, (now - age * DAY, now - age * DAY))
        names.append(photo.relative)
    return names


def test_old_photos_go_only_once_the_central_holds_them(tmp_path: Path) -> None:
    now = 1_800_000_000.0
    store = PhotoStore(tmp_path, quota_bytes=10_000_000, keep_days=30)
    store.confirmed_until = float("-inf")  # a central, which has confirmed nothing yet
    names = _photos(store, [90, 60, 1], now)
    store.prune(now)
    assert all((tmp_path / name).exists() for name in names)  # past retention, still kept
    store.confirmed_until = now - 70 * DAY  # the central holds the 90-day-old one
    store.prune(now)
    assert [(tmp_path / name).exists() for name in names] == [False, True, True]


def test_over_quota_unconfirmed_photos_stay_and_without_a_central_they_go(tmp_path: Path) -> None:
    now = 1_800_000_000.0
    store = PhotoStore(tmp_path, quota_bytes=1500, keep_days=30)  # room for one photo
    store.confirmed_until = float("-inf")
    names = _photos(store, [3, 2, 1], now)
    store.prune(now)
    assert all((tmp_path / name).exists() for name in names)
    store.confirmed_until = None  # no central: the quota rules as before
    store.prune(now)
    assert [(tmp_path / name).exists() for name in names] == [False, False, True]
