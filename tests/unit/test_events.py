import re
import threading
import time
from pathlib import Path

import pytest

from localwork.events import EVENT_KINDS, PAYLOADS, EventBus

ROOT = Path(__file__).resolve().parents[2]


def test_poll_returns_events_after_a_number():
    bus = EventBus()
    bus.publish("models_changed")
    bus.publish("engine_crashed", message="gone", restarting=True)
    assert [e["type"] for e in bus.poll(0, 0)] == ["models_changed", "engine_crashed"]
    assert [e["type"] for e in bus.poll(1, 0)] == ["engine_crashed"]
    assert bus.poll(2, 0) == []
    assert bus.last_seq == 2


def test_poll_wakes_when_an_event_arrives():
    bus = EventBus()
    threading.Timer(0.05, bus.publish, args=("models_changed",)).start()
    started = time.monotonic()
    events = bus.poll(0, timeout=5)
    assert [e["type"] for e in events] == ["models_changed"]
    assert time.monotonic() - started < 4


def test_close_releases_waiting_readers():
    bus = EventBus()
    threading.Timer(0.05, bus.close).start()
    started = time.monotonic()
    assert bus.poll(0, timeout=10) == []
    assert time.monotonic() - started < 5


def _token(bus: EventBus, text: str) -> None:
    bus.publish("token", conversation_id="c", job_id="j", text=text)


def test_streamed_text_is_held_back_to_gather_more():
    bus = EventBus()
    _token(bus, "Hel")
    threading.Timer(0.05, _token, args=(bus, "lo")).start()
    events = bus.poll(0, timeout=10, hold_streamed=1.0)
    assert [e["text"] for e in events] == ["Hel", "lo"]


def test_any_other_event_ends_the_hold_at_once():
    bus = EventBus()
    _token(bus, "Hel")
    threading.Timer(0.05, bus.publish, args=("models_changed",)).start()
    threading.Timer(1.5, _token, args=(bus, "late")).start()  # only a held poll would get it
    events = bus.poll(0, timeout=10, hold_streamed=2.0)
    assert [e["type"] for e in events] == ["token", "models_changed"]


def test_the_hold_never_outlasts_the_timeout():
    bus = EventBus()
    _token(bus, "Hel")
    started = time.monotonic()
    assert [e["text"] for e in bus.poll(0, timeout=0.1, hold_streamed=2.0)] == ["Hel"]
    assert time.monotonic() - started < 1.9


def test_buffer_is_bounded():
    bus = EventBus(capacity=3)
    for number in range(10):
        bus.publish("reply_queued", conversation_id="c", job_id="j", ahead=number)
    assert [e["ahead"] for e in bus.poll(0, 0)] == [7, 8, 9]


def test_an_undeclared_kind_or_payload_is_refused():
    bus = EventBus()
    with pytest.raises(TypeError, match="undeclared event kind"):
        bus.publish("tokens", text="x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="declares"):
        bus.publish("token", conversation_id="c", job_id="j")  # no text
    with pytest.raises(TypeError, match="declares"):
        bus.publish("models_changed", extra=1)
    bus.publish("reply_done", conversation_id="c", job_id="j", message=None, stopped=True)
    assert bus.last_seq == 1


def test_every_kind_has_a_payload_and_is_described():
    described = (ROOT / "backend/localwork/events.py").read_text(encoding="utf-8")
    assert set(PAYLOADS) == set(EVENT_KINDS)
    for kind in EVENT_KINDS:
        assert f"- ``{kind}``:" in described


def kinds_used(pattern: str, *globs: str) -> set[str]:
    found: set[str] = set()
    for glob in globs:
        for path in ROOT.glob(glob):
            found |= set(re.findall(pattern, path.read_text(encoding="utf-8")))
    return found


def test_the_page_ask_and_the_backend_use_only_declared_kinds():
    published = kinds_used(r"publish\(\s*\"(\w+)\"", "backend/localwork/**/*.py")
    heard_by_page = kinds_used(r"\.on\(\"(\w+)\"", "frontend/js/*.js")
    read_by_ask = kinds_used(r"\[\"type\"\] == \"(\w+)\"", "backend/localwork/cli/ask.py")
    assert published == set(EVENT_KINDS)  # each declared kind is sent by someone
    assert heard_by_page <= set(EVENT_KINDS) and heard_by_page
    assert read_by_ask <= set(EVENT_KINDS) and read_by_ask
