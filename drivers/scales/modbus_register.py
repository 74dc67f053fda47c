"""Modbus RTU/TCP weighing indicators and load-cell transmitters: the register map is data.

A map says where the weight is (function, address, type, word and byte order, decimals fixed or
from a register), where the status register is and which bits mean stable, net, negative,
overload, underload or error, and which command register and values zero and tare. Presets
hold the maps that manuals publish:

- ``laumas`` (Laumas TLU/TLB/W100/LCB, Rice Lake SCT-10/20/30, CAS CI-600D): FC03; net at
  40010/40011 high word first as a magnitude, status 40007 (bit 0 load-cell error, 1 A/D
  fault, 2 maximum exceeded by 9 divisions, 3 gross above 110 % of full scale, 4 gross and 5
  net beyond +-999999 with their sign in bits 7 (gross) and 8 (net): there is no underload
  bit, the sign says which way; 10 net display, 11 stable); command 40006 (8 zero, 7 tare;
  send 0 between two equal commands). Laumas TLU manual p.30, LCB manual p.3, Rice Lake SCT-10
  pp.41-42.
- ``dini-argeo`` (DGT1/DGT4X, Rice Lake SCT-2200): FC04; net at 30003/30004 as a magnitude,
  status 30005 (bit 0 net negative, 1 gross negative, 2 stable, 3 underload, 4 overload, 5
  tare active, 6 preset tare active: either tare makes the weight net); command 40001 (1 zero,
  2 tare). DGT1S manual p.10, DGT4X manual pp.57-58. The DGT4X multi-scale registers (40202,
  40205, ...) order their bits differently and are not this preset: map them with [scale.map].
- ``generic-float32`` and ``generic-int32``: our own simple maps for transmitters configured
  to match (documented in the example config).
No unit is on the wire: `unit` comes from the config. (reference/protocols.md section 7)
"""

from __future__ import annotations

import struct
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, Self

from pydantic import Field, model_validator

from drivers._modbus import Bus, ModbusLinkSettings, attach, detach
from drivers.scales._register_maps import PRESETS, WIDTH, RegisterMap
from scale_agent.errors import DeviceUnavailableError
from scale_agent.plugins import ScaleCommand, ScaleIdentity
from scale_agent.weights import UNIT_NAMES, Mode, Reading, ReadingKind, Unit, Weight

if TYPE_CHECKING:
    from collections.abc import Callable

    from pymodbus.client import ModbusBaseSyncClient
    from pymodbus.pdu import ModbusPDU

__all__ = ["DRIVER", "PRESETS", "ModbusScale", "RegisterMap", "Settings", "probe"]

MAX_BLOCK = 32  # registers in one request (the Laumas family's limit)


class Settings(ModbusLinkSettings):
    """Modbus scale keys: the link (see `drivers._modbus`), a preset or a map, and the unit."""

    preset: Literal["laumas", "dini-argeo", "generic-float32", "generic-int32"] | None = None
    map: RegisterMap | None = None
    decimals: int | None = Field(default=None, ge=0, le=6)  # overrides the map's
    unit: Literal["g", "kg", "lb", "oz"]
    poll_interval_s: float = Field(default=0.1, ge=0.01, le=10)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if (self.preset is None) == (self.map is None):
            raise ValueError("give either a preset or a [scale.map]")
        return self

    def register_map(self) -> RegisterMap:
        """The map in force: the preset's or our own, with `decimals` applied."""
        chosen = self.map or PRESETS[str(self.preset)]
        if self.decimals is not None:
            chosen = chosen.model_copy(update={"decimals": self.decimals})
        return chosen


def span(register_map: RegisterMap) -> tuple[int, int]:
    """The first address and count of the one block read that covers the whole map."""
    used = [
        register_map.weight_address,
        register_map.weight_address + WIDTH[register_map.type] - 1,
    ]
    used += [
        a for a in (register_map.status_address, register_map.decimals_address) if a is not None
    ]
    first = min(used)
    return first, max(used) - first + 1


def _bit(status: int, bit: int | None) -> bool:
    return bit is not None and bool(status >> bit & 1)


def _raw_number(register_map: RegisterMap, words: list[int]) -> float | int:
    """The register words as the map's type, after byte and word order."""
    if register_map.byte_swap:
        words = [(word & 0xFF) << 8 | word >> 8 for word in words]
    if register_map.word_order == "little":
        words = words[::-1]
    code = {"int16": ">h", "uint16": ">H", "int32": ">i", "uint32": ">I", "float32": ">f"}
    number: float | int = struct.unpack(
        code[register_map.type], struct.pack(f">{len(words)}H", *words)
    )[0]
    return number


def _fault(register_map: RegisterMap, status: int, raw: bytes) -> Reading | None:
    """A status reading when the status register says there is no usable weight."""
    if any(_bit(status, bit) for bit in register_map.error_bits):
        return Reading(ReadingKind.STATUS, raw, error="device_error")
    if any(_bit(status, bit) for bit in register_map.overload_bits):
        return Reading(ReadingKind.STATUS, raw, is_overload=True)
    if any(_bit(status, bit) for bit in register_map.underload_bits):
        return Reading(ReadingKind.STATUS, raw, is_underload=True)
    for beyond, sign in register_map.range_bits:
        if _bit(status, beyond):
            is_under = _bit(status, sign)
            return Reading(ReadingKind.STATUS, raw, is_overload=not is_under, is_underload=is_under)
    return None


def _stable(register_map: RegisterMap, status: int) -> bool | None:
    if register_map.stable_bit is not None:
        return _bit(status, register_map.stable_bit)
    if register_map.motion_bit is not None:
        return not _bit(status, register_map.motion_bit)
    return None


def decode_block(
    register_map: RegisterMap, first: int, registers: list[int], unit: Unit
) -> Reading:
    """The reading in one block of registers (read from `first` on). Never raises."""
    raw = struct.pack(f">{len(registers)}H", *registers)
    offset = register_map.weight_address - first
    number = _raw_number(register_map, registers[offset : offset + WIDTH[register_map.type]])
    status = (
        registers[register_map.status_address - first]
        if register_map.status_address is not None
        else 0
    )
    fault = _fault(register_map, status, raw)
    if fault is not None:
        return fault
    if register_map.type == "float32":
        value = Decimal(repr(number))
        if not value.is_finite():
            return Reading(ReadingKind.ERROR, raw, error="weight is not a number")
    else:
        decimals = (
            registers[register_map.decimals_address - first]
            if register_map.decimals_address is not None
            else register_map.decimals
        )
        if decimals > 6:  # noqa: PLR2004 - no indicator shows more
            return Reading(ReadingKind.ERROR, raw, error=f"implausible decimals {decimals}")
        value = Decimal(int(number)).scaleb(-decimals)
    if _bit(status, register_map.negative_bit):
        value = -value
    mode = None
    if register_map.net_bit is not None:
        is_net = _bit(status, register_map.net_bit) or _bit(status, register_map.preset_tare_bit)
        mode = Mode.NET if is_net else Mode.GROSS
    return Reading(
        ReadingKind.WEIGHT, raw, Weight(value, unit), _stable(register_map, status), mode
    )


def block_request(
    function: str, first: int, count: int, unit: int
) -> Callable[[ModbusBaseSyncClient], ModbusPDU]:
    """One block read of holding or input registers, to run on a `Bus`."""

    def request(client: ModbusBaseSyncClient) -> ModbusPDU:
        read = (
            client.read_holding_registers if function == "holding" else client.read_input_registers
        )
        return read(first, count=count, device_id=unit)

    return request


class ModbusScale:
    """A weighing indicator polled over Modbus TCP or RTU (sync client, the link's thread)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.map = settings.register_map()
        self.first, self.count = span(self.map)
        if self.count > MAX_BLOCK:
            raise ValueError(
                f"the register map spans {self.count} registers (at most {MAX_BLOCK} in one read)"
            )
        self._bus: Bus | None = None
        self._next_poll = 0.0

    @property
    def device(self) -> str:
        """Where the indicator is, with its unit id."""
        return self.settings.where

    def open(self) -> ScaleIdentity:
        """Connect (TCP) or open the serial port (RTU; shared with other units on that bus)."""
        if self._bus is None:
            self._bus = attach(self.settings)
        self._bus.connect()
        s = self.settings
        return ScaleIdentity(
            model=f"Modbus indicator ({s.preset or 'custom map'}), unit {s.device_id}"
        )

    def read(self) -> list[Reading]:
        """One block read per poll interval: the reading, or an error reading (never stale)."""
        bus = self._bus
        if bus is None:
            raise DeviceUnavailableError(self.device, "not connected")
        wait = self._next_poll - time.monotonic()
        if wait > 0:
            time.sleep(min(wait, 0.05))
            return []
        self._next_poll = time.monotonic() + self.settings.poll_interval_s
        name = (
            "read_holding_registers" if self.map.function == "holding" else "read_input_registers"
        )
        response = bus.call(
            self.device,
            lambda client: getattr(client, name)(
                self.first, count=self.count, device_id=self.settings.device_id
            ),
        )
        if response.isError():
            code = getattr(response, "exception_code", "?")
            return [Reading(ReadingKind.ERROR, b"", error=f"modbus exception {code}")]
        return [
            decode_block(
                self.map, self.first, list(response.registers), UNIT_NAMES[self.settings.unit]
            )
        ]

    def send(self, command: ScaleCommand) -> bool:
        """Zero or tare through the command register, where the map has one."""
        value = self.map.zero_value if command is ScaleCommand.ZERO else self.map.tare_value
        address = self.map.command_address
        bus = self._bus
        if bus is None or address is None or value is None:
            return False
        reset = self.map.command_reset
        device_id = self.settings.device_id

        def write(client: ModbusBaseSyncClient) -> None:
            client.write_registers(address, [value], device_id=device_id)
            if reset is not None:
                client.write_registers(address, [reset], device_id=device_id)

        bus.call(self.device, write)
        return True

    def close(self) -> None:
        """Stop using the bus (the last user on it closes it); safe to call twice."""
        bus, self._bus = self._bus, None
        if bus is not None:
            detach(bus)


DRIVER = ModbusScale


PLAUSIBLE = Decimal(10_000_000)  # no packing scale shows more counts than this


def probe(link: dict[str, object], units: list[int]) -> list[dict[str, object]]:
    """Every unit id and preset that answers with a plausible reading (`scale-agent probe`).

    A unit that does not answer one short read is skipped at once, so scanning a bus of
    absent ids costs one timeout each. Only reads are sent: probing never zeroes or tares.
    """
    found: list[dict[str, object]] = []
    for unit in units:
        base = ModbusLinkSettings.model_validate({**link, "device_id": unit})
        bus = attach(base)
        try:
            bus.connect()  # a link that does not open is no silent unit: let it say why
        except DeviceUnavailableError:
            detach(bus)
            raise
        try:
            bus.call(base.where, block_request("holding", 0, 1, unit))
        except DeviceUnavailableError:
            detach(bus)
            continue
        try:
            found += _probe_presets(bus, base, unit)
        finally:
            detach(bus)
    return found


def _probe_presets(bus: Bus, base: ModbusLinkSettings, unit: int) -> list[dict[str, object]]:
    answers: list[dict[str, object]] = []
    for name, register_map in PRESETS.items():
        first, count = span(register_map)
        try:
            response = bus.call(
                base.where, block_request(register_map.function, first, count, unit)
            )
        except DeviceUnavailableError:
            continue
        if response.isError():
            continue
        reading = decode_block(register_map, first, list(response.registers), Unit.KG)
        weight = reading.weight
        # Only a weight counts: status bits of a map that does not fit read as random faults.
        if (
            reading.kind is not ReadingKind.WEIGHT
            or weight is None
            or abs(weight.value) >= PLAUSIBLE
        ):
            continue
        answers.append(
            {
                "device_id": unit,
                "preset": name,
                "value": str(weight.value),
                "is_stable": reading.is_stable,
            }
        )
    return answers
