"""The fast PUBLISH properties are byte-for-byte what paho's validated path builds."""

from __future__ import annotations

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from scale_agent.io.mqtt import message_properties


def test_fast_properties_pack_like_paho_validated_ones() -> None:
    slow = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    slow.ContentType = "application/json"
    slow.UserProperty = ("msg_id", "6f1c9a0e-3b1d-4a55-9a40-2c1f1e0b7d11")
    fast = message_properties("6f1c9a0e-3b1d-4a55-9a40-2c1f1e0b7d11")
    assert fast.pack() == slow.pack()  # type: ignore[no-untyped-call]


def test_each_message_gets_its_own_id_and_the_template_stays_clean() -> None:
    first, second = message_properties("a"), message_properties("b")
    assert getattr(first, "UserProperty") == [("msg_id", "a")]  # noqa: B009 - untyped paho
    assert getattr(second, "UserProperty") == [("msg_id", "b")]  # noqa: B009
    assert message_properties("c").pack().count(b"msg_id") == 1  # type: ignore[no-untyped-call]
