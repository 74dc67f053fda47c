"""Parcel photos on the station's disk: stamped, hashed, kept within a quota and an age.

The stamp (order, weight, verdict, station, time) is drawn into a copy of the camera's image
and the stamped file is what is kept and hashed: it is the picture customer service attaches,
so it is the picture the ledger's SHA-256 vouches for (`check` recomputes it the same way).
Files are written whole and synced (`io.files.write_atomically`): a photo is whole or absent.
"""

from __future__ import annotations

import hashlib
import io
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from scale_agent.errors import DeviceError
from scale_agent.io.files import write_atomically

PHOTO_DIR = "photos"
FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


@dataclass(frozen=True)
class Photo:
    """A kept photo: its path inside the data folder, hash and size."""

    relative: str
    sha256: str
    size: int


def stamp(jpeg: bytes, lines: list[str]) -> bytes:
    """The image with `lines` written on a dark band along its bottom edge, as JPEG."""
    try:
        from PIL import Image, ImageDraw, ImageFont  # noqa: PLC0415 - the camera extra
    except ImportError as exc:
        raise DeviceError(
            "camera", "stamping needs Pillow: pip install 'scale-agent[camera]'"
        ) from exc
    try:
        image = Image.open(io.BytesIO(jpeg)).convert("RGB")
    except OSError as exc:
        raise DeviceError("camera", f"the image cannot be read: {exc}") from exc
    size = max(12, image.height // 28)
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont
    try:
        font = ImageFont.truetype(str(FONT), size)
    except OSError:
        font = ImageFont.load_default(size)
    band = (size + 6) * len(lines) + 6
    draw = ImageDraw.Draw(image, "RGBA")
    draw.rectangle((0, image.height - band, image.width, image.height), fill=(0, 0, 0, 170))
    for number, line in enumerate(lines):
        y = image.height - band + 4 + number * (size + 6)
        draw.text((8, y), line, font=font, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=88)
    return out.getvalue()


def digest(data: bytes) -> str:
    """The SHA-256 the ledger keeps."""
    return hashlib.sha256(data).hexdigest()


class PhotoStore:
    """`<data_dir>/photos/YYYY-MM-DD/<name>.jpg`, the oldest removed past quota or age."""

    def __init__(self, data_dir: Path, quota_bytes: int, keep_days: int) -> None:
        self.root = data_dir / PHOTO_DIR
        self.data_dir = data_dir
        self.quota_bytes = quota_bytes
        self.keep_s = keep_days * 86_400
        # With a central: photos taken after this moment (epoch s) are not yet confirmed as
        # held there and are never pruned, whatever the quota (None: no central, prune freely).
        self.confirmed_until: float | None = None

    def save(self, data: bytes, name: str, at: float) -> Photo:
        """Write one photo whole, then prune."""
        day = time.strftime("%Y-%m-%d", time.gmtime(at))
        folder = self.root / day
        path = folder / f"{name}.jpg"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_atomically(path, data, durable=True)
        except OSError as exc:
            raise DeviceError(str(self.root), f"cannot keep the photo: {exc}") from exc
        self.prune(at)
        return Photo(path.relative_to(self.data_dir).as_posix(), digest(data), len(data))

    def prune(self, now: float) -> list[Path]:
        """Remove photos older than the retention, then the oldest until under the quota.

        Never one the central has not confirmed (`confirmed_until`): past the quota such
        photos fill the disk, and the station warns (`[station] disk_warn_free_mb`).
        """
        confirmed_until = self.confirmed_until
        # One stat per photo (this runs after every capture), oldest first.
        photos = sorted(
            ((path.stat(), path) for path in self.root.glob("*/*.jpg")),
            key=lambda entry: entry[0].st_mtime,
        )
        removed = []
        total = sum(info.st_size for info, _ in photos)
        for info, path in photos:
            if now - info.st_mtime <= self.keep_s and total <= self.quota_bytes:
                break
            if confirmed_until is not None and info.st_mtime > confirmed_until:
                break  # oldest first: every photo from here on waits for the central
            total -= info.st_size
            path.unlink(missing_ok=True)
            removed.append(path)
        return removed


class PhotoState(StrEnum):
    """What became of a photo the chain names."""

    HELD = "held"  # there, with the recorded SHA-256
    ALTERED = "altered"  # there, with another hash: tampering
    GONE = "gone"  # missing or unreadable (retention removes photos; not proof of tampering)


@dataclass(frozen=True)
class PhotoCheck:
    """A recorded photo checked against its hash: the state, why, and the bytes when held."""

    state: PhotoState
    reason: str | None = None
    data: bytes | None = None


def check(data_dir: Path, relative: str, sha256: str) -> PhotoCheck:
    """Read a recorded photo and compare its SHA-256 with the one the chain holds."""
    path = data_dir / relative
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        reason = f"photo {relative} is missing (removed by retention, or deleted)"
        return PhotoCheck(PhotoState.GONE, reason)
    except OSError as exc:
        return PhotoCheck(PhotoState.GONE, f"photo {relative} cannot be read: {exc}")
    if digest(data) != sha256:
        reason = f"photo {relative} was altered: its SHA-256 is not the one recorded"
        return PhotoCheck(PhotoState.ALTERED, reason)
    return PhotoCheck(PhotoState.HELD, data=data)
