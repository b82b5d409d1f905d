"""The one background thread the MCP SDK's asyncio runs on, for an app of plain threads.

Every server's session lives on this loop; a thread hands it a coroutine and waits for the
result (``run``). The thread also forks each stdio server's launcher, whose ``PDEATHSIG`` is
tied to it: the loop must outlive every server, which ``close`` makes sure of.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopTimeout(TimeoutError):
    """The loop did not finish a piece of work in the time it was given."""


class EventLoopThread:
    def __init__(self, name: str = "mcp-loop") -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def in_loop_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def submit(self, work: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(work, self._loop)

    def run(self, work: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``work`` on the loop and wait for it; cancelled after ``timeout`` seconds.

        Raises:
            LoopTimeout: it took longer (a backstop: the work has timeouts of its own).
            RuntimeError: called from the loop's own thread, which would wait for itself.
        """
        if self.in_loop_thread():
            work.close()
            raise RuntimeError("EventLoopThread.run called from its own loop")
        future = self.submit(work)
        # Not future.result(timeout): the work's own TimeoutErrors must come through as they are.
        done, _ = concurrent.futures.wait([future], timeout)
        if not done:
            future.cancel()
            raise LoopTimeout(f"no result within {timeout:g} s")
        return future.result()

    def close(self) -> None:
        """Stop the loop once its tasks are done or cancelled, and wait for the thread."""
        if self._loop.is_closed() or not self._thread.is_alive():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.run_until_complete(self._loop.shutdown_default_executor())
            self._loop.close()
