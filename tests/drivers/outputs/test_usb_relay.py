"""USB relay boards: the command bytes, and a board on a pseudo-terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import pytest
from pydantic import ValidationError

from drivers.outputs.usb_relay import Settings, relay_command
from scale_agent.plugins import OUTPUT_GROUP, load_driver
from scale_agent.testing.contracts import OutputDriverContract
from tests.fakes.relay_board import RelayBoardPeer

if TYPE_CHECKING:
    from collections.abc import Iterator

    from drivers.outputs._channels import ChannelLight

TOWER = {"red": 1, "green": 2, "buzzer": 3, "seal": 4}


@pytest.mark.parametrize(
    ("protocol", "relay", "on", "frame"),
    [
        ("lcus", 1, True, "a00101a2"),  # the LCUS-1 manual's "open relay" frame
        ("lcus", 1, False, "a00100a1"),
        ("lcus", 4, True, "a00401a5"),
        ("kmtronic", 2, True, "ff0201"),
        ("kmtronic", 2, False, "ff0200"),
    ],
)
def test_command_bytes(protocol: str, relay: int, on: bool, frame: str) -> None:
    assert relay_command(protocol, relay, on).hex() == frame


def test_relay_numbers_start_at_one() -> None:
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        Settings(port="/dev/null", channels={"red": 0})


class TestUsbRelayContract(OutputDriverContract):
    driver_name = "usb-relay"

    @pytest.fixture
    def light(self) -> Iterator[ChannelLight]:
        self.board = RelayBoardPeer()
        module = load_driver(OUTPUT_GROUP, "usb-relay")
        settings = module.Settings.model_validate(
            {
                "port": self.board.path,
                "channels": TOWER,
                "interlock": "seal",
                "signals": {"fail": ["red", "buzzer:0.3s"], "fault": ["red", "buzzer"]},
            }
        )
        light = cast("ChannelLight", module.DRIVER(settings))
        yield light
        light.close()
        self.board.close()
        assert self.board.bad_frames == 0

    def energised(self, channel: str) -> bool:
        return self.board.state(TOWER[channel])

    def unplug(self) -> None:
        self.board.unplug()
