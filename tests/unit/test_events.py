import threading
import time

from localwork.events import EventBus


def test_poll_returns_events_after_a_number():
    bus = EventBus()
    bus.publish("a", n=1)
    bus.publish("b", n=2)
    assert [e["type"] for e in bus.poll(0, 0)] == ["a", "b"]
    assert [e["type"] for e in bus.poll(1, 0)] == ["b"]
    assert bus.poll(2, 0) == []
    assert bus.last_seq == 2


def test_poll_wakes_when_an_event_arrives():
    bus = EventBus()
    threading.Timer(0.05, bus.publish, args=("late",)).start()
    started = time.monotonic()
    events = bus.poll(0, timeout=5)
    assert [e["type"] for e in events] == ["late"]
    assert time.monotonic() - started < 4


def test_close_releases_waiting_readers():
    bus = EventBus()
    threading.Timer(0.05, bus.close).start()
    started = time.monotonic()
    assert bus.poll(0, timeout=10) == []
    assert time.monotonic() - started < 5


def test_buffer_is_bounded():
    bus = EventBus(capacity=3)
    for number in range(10):
        bus.publish("e", n=number)
    assert [e["n"] for e in bus.poll(0, 0)] == [7, 8, 9]
