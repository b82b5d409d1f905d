"""How often the page takes a streaming reply's text, and so draws it.

In the Qt window every drawn frame costs ~10 ms of CPU whatever it shows (software
compositing where there is no GPU; ``window_benchmark --threads``). When the local model's
threads take every core, that time comes out of generation: the engine's threads waited for a
core 2.3 % of the time at one frame a second, 4.5-5.2 % at three (``window_benchmark``, its
"extra wait" line). With a core to spare, the window draws as often as the text comes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

FREE_PACE_MS = 150  # a core to spare, a server's model, or a GPU: text appears as it comes
BUSY_PACE_MS = 500  # the local model's threads take every core: two frames a second
SPARE_CORES = 2  # logical cores beyond the model's threads that leave the window one of its own


def stream_pace_ms(status: Mapping[str, Any], logical_cores: int | None = None) -> int:
    """The pace for the engine whose ``status`` (the runtime's shape) is given."""
    model = status.get("model") or {}
    threads = model.get("n_threads")
    if model.get("remote") or status.get("gpu_offload") or not isinstance(threads, int):
        return FREE_PACE_MS
    cores = logical_cores if logical_cores is not None else os.cpu_count() or 1
    return FREE_PACE_MS if cores - threads >= SPARE_CORES else BUSY_PACE_MS
