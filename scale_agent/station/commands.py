"""Supervisor commands from the `command` topic: checked, carried out, answered as effects.

Every command is answered on `event`: refused with the reason (not JSON, not a command this
station accepts, an override without operator or reason, a zero with a parcel on the platter)
or done. The answers are effects (`Refused`, `Told`) the runtime publishes; only `zero` and
`tare` reach the scale, through its link, and `reload_catalog` reads the catalog file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError

from scale_agent.domain.untrusted import load_json, validation_reasons
from scale_agent.errors import CatalogError, PayloadError
from scale_agent.io.config import load_station_catalog, resolve
from scale_agent.io.messages import CommandPayload
from scale_agent.plugins import ScaleCommand
from scale_agent.station.effects import Effect, Override, Refused, StartTest, Told

if TYPE_CHECKING:
    from collections.abc import Callable

    from scale_agent.io.config import StationConfig
    from scale_agent.io.logs import Log
    from scale_agent.station.logic import StationLogic


class CommandDesk:
    """Turns command payloads into station effects and scale commands."""

    def __init__(
        self,
        config: Callable[[], StationConfig],  # the current one: a reload may replace it
        logic: StationLogic,
        send: Callable[[ScaleCommand], None],
        log: Log,
    ) -> None:
        self._config = config
        self.logic = logic
        self._send = send
        self._log = log

    def on_data(self, data: bytes, now: float) -> list[Effect]:
        """A command as it arrived; never raises, whatever the bytes."""
        try:
            raw = load_json(data, what="command")
        except PayloadError as exc:
            return [Refused(None, f"invalid command: {exc.reason}")]
        try:
            command = CommandPayload.model_validate(raw)
        except ValidationError as exc:
            reason = f"invalid command: {validation_reasons(exc, 'command')}"
            return [Refused(None, reason, request_id=_request_id(raw))]
        name, request_id = command.command, command.request_id
        if name not in self._config().agent.mqtt.accept_commands:
            reason = f"this station does not accept '{name}' commands"
            return [Refused(name, reason, request_id=request_id)]
        self._log.info(
            "command_received", command=name, operator=command.operator, request_id=request_id
        )
        return self._carry_out(command, now)

    def _carry_out(self, command: CommandPayload, now: float) -> list[Effect]:
        name, request_id = command.command, command.request_id
        if name == "override":
            if command.operator is None or command.reason is None:
                reason = "an override needs an operator and a reason"
                return [Refused(name, reason, request_id=request_id)]
            override = Override(command.operator, command.reason)
            return self.logic.on_override(override, command.order_id, now)
        if name == "reweigh":
            return self.logic.on_reweigh(now)
        if name == "reload_catalog":
            return self._reload_catalog(request_id)
        if name == "routine_test":
            return [StartTest(command.operator, "on demand (command)", request_id)]
        return self._zero_or_tare(command)

    def _zero_or_tare(self, command: CommandPayload) -> list[Effect]:
        name, request_id = command.command, command.request_id
        why_not = self.logic.can_zero()
        if why_not is not None:
            return [Refused(name, f"cannot {name} now: {why_not}", request_id=request_id)]
        self._send(ScaleCommand.ZERO if name == "zero" else ScaleCommand.TARE)
        return []

    def _reload_catalog(self, request_id: str | None) -> list[Effect]:
        config = self._config()
        path = resolve(config.path, config.agent.station.catalog)
        try:
            catalog = load_station_catalog(path, config.agent.policies)
        except CatalogError as exc:
            problems = "; ".join(str(problem) for problem in exc.problems)
            reason = f"catalog kept, the new one has problems: {problems}"
            return [Refused("reload_catalog", reason, request_id=request_id)]
        self.logic.replace_catalog(catalog)
        reason = f"{len(catalog.skus)} SKUs, {len(catalog.cartons)} cartons from {path}"
        return [Told("catalog_reloaded", reason, command="reload_catalog", request_id=request_id)]


def _request_id(raw: object) -> str | None:
    value = raw.get("request_id") if isinstance(raw, dict) else None
    return value[:128] if isinstance(value, str) else None
