"""The one base of every validated model: config sections, driver settings, MQTT payloads.

Unknown keys are errors (a typo in a config file or a payload is reported, not ignored) and
values are frozen once validated, so a model can be shared between threads without copying.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A frozen pydantic model that refuses keys it does not declare."""

    model_config = ConfigDict(extra="forbid", frozen=True)
