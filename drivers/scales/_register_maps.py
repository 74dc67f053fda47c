"""Modbus weighing indicators' register maps as data, and presets for the public ones.

A preset is chosen with `preset = "..."` in a `[scale]` section of driver `modbus-register`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from scale_agent.plugins import DriverSettings

WIDTH = {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "float32": 2}


class RegisterMap(DriverSettings):
    """Where an indicator keeps its weight and status, and how to command it."""

    function: Literal["holding", "input"] = "holding"
    weight_address: int = Field(ge=0, le=65534)  # 0-based: 40010 is 9
    type: Literal["int16", "uint16", "int32", "uint32", "float32"] = "int32"
    word_order: Literal["big", "little"] = "big"  # big: high word first
    byte_swap: bool = False
    decimals: int = Field(default=0, ge=0, le=6)
    decimals_address: int | None = None
    status_address: int | None = None
    stable_bit: int | None = None
    motion_bit: int | None = None
    net_bit: int | None = None
    preset_tare_bit: int | None = None  # a preset tare in force: the weight is net as well
    negative_bit: int | None = None  # the weight is a magnitude; its sign is this bit
    overload_bits: list[int] = Field(default_factory=list)
    underload_bits: list[int] = Field(default_factory=list)
    # (beyond-range bit, sign bit): out of range, over when the sign bit is clear, else under
    range_bits: list[tuple[int, int]] = Field(default_factory=list)
    error_bits: list[int] = Field(default_factory=list)
    command_address: int | None = None
    zero_value: int | None = None
    tare_value: int | None = None
    command_reset: int | None = None  # written after a command, so the next equal one counts


PRESETS: dict[str, RegisterMap] = {
    "laumas": RegisterMap(
        function="holding",
        weight_address=9,
        type="uint32",
        status_address=6,
        stable_bit=11,
        net_bit=10,
        negative_bit=8,
        overload_bits=[2, 3],  # 9 divisions over maximum; gross above 110 % of full scale
        range_bits=[(4, 7), (5, 8)],  # gross / net beyond +-999999, with their sign bits
        error_bits=[0, 1],
        command_address=5,
        zero_value=8,
        tare_value=7,
        command_reset=0,
    ),
    "dini-argeo": RegisterMap(
        function="input",
        weight_address=2,
        type="uint32",
        status_address=4,
        stable_bit=2,
        net_bit=5,
        preset_tare_bit=6,
        negative_bit=0,
        underload_bits=[3],
        overload_bits=[4],
        command_address=0,
        zero_value=1,
        tare_value=2,
    ),
    "generic-float32": RegisterMap(
        function="holding",
        weight_address=0,
        type="float32",
        status_address=2,
        stable_bit=0,
        net_bit=1,
        overload_bits=[2],
        underload_bits=[3],
        error_bits=[4],
    ),
    "generic-int32": RegisterMap(
        function="holding",
        weight_address=0,
        type="int32",
        decimals_address=2,
        status_address=3,
        stable_bit=0,
        net_bit=1,
        overload_bits=[2],
        underload_bits=[3],
        error_bits=[4],
    ),
}
