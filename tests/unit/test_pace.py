"""How often the page draws a streaming reply: slower only where frames cost generation."""

import pytest

from localwork.transports.bridge import Bridge
from localwork.transports.pace import BUSY_PACE_MS, FREE_PACE_MS, stream_pace_ms


def _local(threads: int, gpu: bool = False) -> dict:
    return {"state": "ready", "model": {"n_threads": threads}, "gpu_offload": gpu}


@pytest.mark.parametrize(
    ("status", "cores", "pace"),
    [
        (_local(2), 2, BUSY_PACE_MS),  # this test machine: the model's threads take every core
        (_local(4), 4, BUSY_PACE_MS),
        (_local(4), 5, BUSY_PACE_MS),
        (_local(4), 8, FREE_PACE_MS),  # a laptop: the model on the physical cores, 8 logical
        (_local(2), 4, FREE_PACE_MS),
        (_local(8, gpu=True), 8, FREE_PACE_MS),  # the model runs on the GPU
        ({"state": "ready", "model": {"remote": True, "n_ctx": 8192}}, 2, FREE_PACE_MS),
        ({"state": "idle", "model": None}, 2, FREE_PACE_MS),  # nothing loaded: nothing streams
    ],
)
def test_the_pace_slows_only_when_the_local_model_takes_every_core(status, cores, pace):
    assert stream_pace_ms(status, logical_cores=cores) == pace


def test_the_bridge_says_how_long_the_next_poll_may_hold_text_back(app):
    bridge = Bridge(app)
    app.events.publish("token", conversation_id="c", job_id="j", text="Hel")
    streaming = bridge.dispatch("poll_events", {"after": 0, "timeout": 0})
    assert streaming["ok"], streaming
    assert streaming["data"]["hold_next_ms"] == stream_pace_ms(app.engine.status())
    assert streaming["data"]["hold_next_ms"] in (FREE_PACE_MS, BUSY_PACE_MS)
    app.events.publish("models_changed")  # the text has stopped coming: nothing to hold
    ended = bridge.dispatch("poll_events", {"after": 0, "timeout": 0})
    assert ended["data"]["hold_next_ms"] == 0
