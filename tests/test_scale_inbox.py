"""The scale inbox: a repeated frame on an empty platter waits for the loop's tick; nothing else."""

from __future__ import annotations

import queue

from scale_agent.io.scale_link import LinkDown
from scale_agent.station.scale_inbox import GATHER_AFTER_S, GATHER_S, ScaleInbox, ScaleWaiting
from scale_agent.weights import Reading, ReadingKind, Weight

EMPTY = Reading(ReadingKind.WEIGHT, b"ST,GS,+0000.00kg\r\n", Weight.parse("0g"), is_stable=True)
LOADED = Reading(ReadingKind.WEIGHT, b"ST,GS,+0000.52kg\r\n", Weight.parse("520g"), is_stable=True)


class Loop:
    """The station loop's side: its queue, and whether the station waits for a load."""

    def __init__(self) -> None:
        self.wakes: queue.Queue[ScaleWaiting] = queue.Queue()
        self.is_waiting = True
        self.inbox = ScaleInbox(self.wakes.put, lambda: self.is_waiting)

    def readings(self) -> list[Reading]:
        taken = self.inbox.take()
        assert all(isinstance(event, Reading) for event in taken)
        return [event for event in taken if isinstance(event, Reading)]

    def woken(self) -> int:
        count = 0
        while not self.wakes.empty():
            self.wakes.get()
            count += 1
        return count


def test_a_repeated_frame_on_an_empty_platter_does_not_wake_the_loop() -> None:
    loop = Loop()
    loop.inbox.put(EMPTY.at(1.0, 1.0))
    assert loop.woken() == 1  # the first frame is news
    assert [r.received_at for r in loop.readings()] == [1.0]
    loop.inbox.put(EMPTY.at(1.02, 1.02))
    loop.inbox.put(EMPTY.at(1.04, 1.04))
    assert loop.woken() == 0
    assert [r.received_at for r in loop.readings()] == [1.02, 1.04]  # kept, in order


def test_a_new_frame_wakes_the_loop_once_and_keeps_the_order() -> None:
    loop = Loop()
    loop.inbox.put(EMPTY.at(1.0, 1.0))
    loop.inbox.take()
    loop.woken()
    loop.inbox.put(EMPTY.at(1.02, 1.02))  # waits
    loop.inbox.put(LOADED.at(1.04, 1.04))  # a parcel: wakes
    loop.inbox.put(LOADED.at(1.06, 1.06))  # already woken: no second wake-up
    assert loop.woken() == 1
    taken = loop.readings()
    assert [(r.weight, r.received_at) for r in taken] == [
        (EMPTY.weight, 1.02),
        (LOADED.weight, 1.04),
        (LOADED.weight, 1.06),
    ]
    loop.is_waiting = False  # the loop saw the parcel
    loop.inbox.put(LOADED.at(1.08, 1.08))  # the same frame, but now it matters: wakes
    assert loop.woken() == 1


def test_while_a_parcel_is_in_its_life_every_frame_wakes_the_loop() -> None:
    loop = Loop()
    loop.is_waiting = False  # settling, judged, or the scale in fault
    for at in (1.0, 1.02, 1.04):
        loop.inbox.put(LOADED.at(at, at))
        assert loop.woken() == 1
        assert len(loop.inbox.take()) == 1


def test_link_events_always_wake_the_loop() -> None:
    loop = Loop()
    loop.inbox.put(EMPTY.at(1.0, 1.0))
    loop.inbox.take()
    loop.woken()
    loop.inbox.put(LinkDown("port gone"))
    assert loop.woken() == 1
    assert loop.inbox.take() == [LinkDown("port gone")]
    loop.inbox.put(EMPTY.at(2.0, 2.0))  # after a link event, the same frame is news again
    assert loop.woken() == 1


def test_the_link_gathers_frames_only_once_the_same_frame_has_come_for_a_while() -> None:
    loop = Loop()
    for at in (1.0, 1.2, 0.9 + GATHER_AFTER_S):
        loop.inbox.put(EMPTY.at(at, at))
    assert loop.inbox.gather_s() == 0  # the same frame, but not for long: read as they come
    loop.inbox.put(EMPTY.at(1.0 + GATHER_AFTER_S, 1.0 + GATHER_AFTER_S))
    assert loop.inbox.gather_s() == GATHER_S
    loop.is_waiting = False  # a parcel in its life (or the scale in fault): every frame counts
    assert loop.inbox.gather_s() == 0
    loop.is_waiting = True
    loop.inbox.put(LOADED.at(2.0, 2.0))  # a parcel lands: read every frame from now on
    assert loop.inbox.gather_s() == 0
    loop.inbox.put(LOADED.at(2.0, 2.0))  # frames gathered with it are stamped alike: no time
    assert loop.inbox.gather_s() == 0


def test_after_a_link_event_the_frames_must_repeat_for_a_while_again() -> None:
    loop = Loop()
    for at in (1.0, 1.0 + GATHER_AFTER_S):
        loop.inbox.put(EMPTY.at(at, at))
    assert loop.inbox.gather_s() == GATHER_S
    loop.inbox.put(LinkDown("port gone"))
    loop.inbox.put(EMPTY.at(2.0, 2.0))
    loop.inbox.put(EMPTY.at(2.1, 2.1))
    assert loop.inbox.gather_s() == 0
