"""cancel(), from another thread or from a callback, ends a reply at once, keeps what it
wrote, and closes the connection (the server sees its client leave)."""

from __future__ import annotations

import threading
import time

from localwork.engine.remote.client import RemoteChatClient
from localwork.engine.remote.connection import RemoteServer, Timeouts
from localwork.engine.remote.request import ChatRequest
from tests.remote.conftest import API_KEY
from tests.support.openai_server import Silence, text_stream

HELLO = ChatRequest("test-model", [{"role": "user", "content": "Say hello."}])
# A read timeout far beyond the bounds below: only cancel() can end these replies in time.
PATIENT = Timeouts(connect=5, read=60)
PROMPTLY = 10.0  # seconds; generous for a loaded machine, far below the read timeout


def patient_client(server) -> RemoteChatClient:
    return RemoteChatClient(RemoteServer(server.url, API_KEY, PATIENT))


def cancel_from_another_thread_when(event: threading.Event, client: RemoteChatClient) -> None:
    def wait_then_cancel() -> None:
        event.wait(PROMPTLY)
        client.cancel()

    threading.Thread(target=wait_then_cancel, daemon=True).start()


def test_cancel_mid_stream_closes_the_stream_and_keeps_the_text(server):
    server.script(text_stream("Hel", "lo", " never", stall_after=2))
    client = patient_client(server)
    second_piece = threading.Event()
    written: list[str] = []

    def on_text(piece: str) -> None:
        written.append(piece)
        if len(written) == 2:
            second_piece.set()

    cancel_from_another_thread_when(second_piece, client)
    started = time.monotonic()
    reply = client.stream_chat(HELLO, on_text=on_text)
    assert time.monotonic() - started < PROMPTLY
    assert (reply.stop_reason, reply.text) == ("cancelled", "Hello")
    assert server.wait_for_disconnects(1)


def test_cancel_while_the_server_has_not_answered_yet(server):
    server.script(Silence())
    client = patient_client(server)
    request_arrived = threading.Event()
    threading.Thread(
        target=lambda: (wait_for_request(server), request_arrived.set()), daemon=True
    ).start()
    cancel_from_another_thread_when(request_arrived, client)
    started = time.monotonic()
    reply = client.stream_chat(HELLO)
    assert time.monotonic() - started < PROMPTLY
    assert (reply.stop_reason, reply.text, reply.tool_calls) == ("cancelled", "", [])
    assert server.wait_for_disconnects(1)


def test_cancel_from_the_text_callback_itself(server):
    server.script(text_stream("one", "two", "three", stall_after=3))
    client = patient_client(server)
    written: list[str] = []

    def on_text(piece: str) -> None:
        written.append(piece)
        client.cancel()

    reply = client.stream_chat(HELLO, on_text=on_text)
    assert reply.stop_reason == "cancelled" and reply.text == written[0] == "one"
    assert server.wait_for_disconnects(1)


def test_cancel_with_nothing_in_progress_does_nothing(server):
    client = patient_client(server)
    client.cancel()
    server.script(text_stream("fine"))
    reply = client.stream_chat(HELLO)
    assert (reply.stop_reason, reply.text) == ("stop", "fine")
    assert server.disconnects == 0


def wait_for_request(server, timeout: float = PROMPTLY) -> None:
    deadline = time.monotonic() + timeout
    while not server.chat_requests() and time.monotonic() < deadline:
        time.sleep(0.01)
