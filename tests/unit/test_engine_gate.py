"""The one queue the chat and the local API pass to use the engine: first come, first served;
a waiter that gives up leaves no hole; a kind of caller can be capped."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest

from localwork.engine.gate import EngineTurns, WaitCancelled
from localwork.errors import EngineBusy


def test_callers_are_served_in_the_order_they_asked():
    turns = EngineTurns()
    order: list[str] = []
    release = threading.Event()

    def hold(name: str, caller: str) -> None:
        with turns.turn(caller):  # type: ignore[arg-type]
            order.append(name)
            if name == "first":
                release.wait(5)

    first = threading.Thread(target=hold, args=("first", "api"))
    first.start()
    while turns.holder() != "api":
        time.sleep(0.005)
    others = []
    for name, caller in (("chat", "chat"), ("api-2", "api"), ("chat-2", "chat")):
        thread = threading.Thread(target=hold, args=(name, caller))
        thread.start()
        others.append(thread)
        while turns.waiting("chat") + turns.waiting("api") < len(others):
            time.sleep(0.005)
    release.set()
    for thread in [first, *others]:
        thread.join(5)
    assert order == ["first", "chat", "api-2", "chat-2"]
    assert turns.holder() is None


def test_a_waiter_that_gives_up_never_holds_it_and_leaves_no_hole():
    turns = EngineTurns()
    cancelled = threading.Event()
    gave_up: list[bool] = []
    with turns.turn("chat"):

        def wait() -> None:
            try:
                with turns.turn("api", cancelled):
                    gave_up.append(False)
            except WaitCancelled:
                gave_up.append(True)

        waiter = threading.Thread(target=wait)
        waiter.start()
        while turns.waiting("api") == 0:
            time.sleep(0.005)
        cancelled.set()
        waiter.join(5)
    assert gave_up == [True]
    with turns.turn("chat"):  # the next caller gets it at once
        assert turns.holder() == "chat"


def test_too_many_waiting_of_one_kind_is_engine_busy():
    turns = EngineTurns()
    with turns.turn("chat"):
        stop = threading.Event()

        def wait() -> None:
            with contextlib.suppress(WaitCancelled), turns.turn("api", stop):
                pass

        waiter = threading.Thread(target=wait)
        waiter.start()
        while turns.waiting("api") == 0:
            time.sleep(0.005)
        with pytest.raises(EngineBusy), turns.turn("api", max_waiting=1):
            pass
        stop.set()
        waiter.join(5)
