"""A virtual X display (Xvfb) for the real window: used by the tests and the window benchmark."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager


class DisplayError(RuntimeError):
    pass


@contextmanager
def virtual_display(size: str = "1280x800x24") -> Iterator[str]:
    """Yield a fresh Xvfb display name (":N"); the server stops when the block ends."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise DisplayError("Xvfb is not installed; the README's test command installs it")
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        [xvfb, "-displayfd", str(write_end), "-screen", "0", size, "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as announced:
        number = announced.readline().strip()
    try:
        if not number:
            raise DisplayError("Xvfb did not start")
        yield f":{number}"
    finally:
        process.terminate()
        process.wait(10)
