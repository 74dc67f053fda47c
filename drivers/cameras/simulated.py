"""The demo's camera: a drawn packing bench with a carton on it, one JPEG per capture.

It speaks the same driver API as a real camera, so the demo's photos go the whole real way:
stamped with the order, weight, verdict and time, kept beside the ledger, hashed into the
chain, sent to the central and shown on the case desk. Each capture differs a little (the
carton's place, the number of items in view), as a real one would.
"""

from __future__ import annotations

import io
import itertools

from pydantic import Field

from scale_agent.errors import DeviceError
from scale_agent.plugins import DriverSettings


class Settings(DriverSettings):
    """`[camera] driver = "simulated"`."""

    width: int = Field(default=640, ge=160, le=1920)
    height: int = Field(default=480, ge=120, le=1080)


class SimulatedCamera:
    """A bench seen from above: grey top, a kraft carton, a few items, the scale's platter."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._shots = itertools.count()

    @property
    def device(self) -> str:
        """What the status and photos name as the camera."""
        return "simulated bench camera"

    def capture(self) -> bytes:
        """One drawn JPEG (Pillow: the `camera` extra)."""
        try:
            from PIL import Image, ImageDraw  # noqa: PLC0415 - the camera extra
        except ImportError as exc:
            raise DeviceError(
                "camera", "the simulated camera needs Pillow: pip install 'scale-agent[camera]'"
            ) from exc
        shot = next(self._shots)
        width, height = self.settings.width, self.settings.height
        image = Image.new("RGB", (width, height), (96, 104, 112))  # the bench top
        draw = ImageDraw.Draw(image)
        platter = (width // 6, height // 8, width * 5 // 6, height * 7 // 8)
        draw.rounded_rectangle(
            platter, radius=12, fill=(170, 176, 182), outline=(60, 64, 70), width=4
        )
        shift = (shot % 5) * width // 80
        box = (width // 4 + shift, height // 5, width * 3 // 4 + shift, height * 3 // 4)
        draw.rectangle(box, fill=(196, 152, 98), outline=(120, 84, 44), width=5)  # kraft carton
        middle = (box[0] + box[2]) // 2
        draw.rectangle((middle - 10, box[1], middle + 10, box[3]), fill=(214, 190, 120))  # tape
        for item in range(2 + shot % 3):
            left = box[0] + 20 + item * (box[2] - box[0] - 40) // 4
            top = box[1] + 24 + (item % 2) * 40
            draw.rectangle(
                (left, top, left + 60, top + 36), fill=(40, 90, 160), outline=(20, 40, 80), width=2
            )
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=85)
        return out.getvalue()

    def close(self) -> None:
        """Nothing is held."""


DRIVER = SimulatedCamera
