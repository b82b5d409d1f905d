"""Settings → Local API through the bridge (the page's only way in): off by default, turned on
on a port (0: a free one), the key masked unless copied, a new key refusing the old and
announced to every view, each request in the log and announced as an event. No model runs:
/v1/models needs none."""

from __future__ import annotations

import json
import socket

import httpx2 as httpx
import pytest

from localwork.transports.bridge import Bridge


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def bridge(app):
    return Bridge(app)


def call(bridge: Bridge, method: str, **params):
    reply = bridge.dispatch(method, params)
    assert reply["ok"], reply
    return reply["data"]


def test_the_api_is_off_by_default_and_its_key_is_masked(bridge):
    status = call(bridge, "api_status")
    assert status["enabled"] is False and status["running"] is False
    assert status["port"] == 7373 and status["lan"] is False and status["cors_origins"] == []
    key = call(bridge, "copy_api_key")["key"]
    assert len(key) >= 32 and key not in str(status)
    assert status["masked_key"] == f"{key[:4]}…{key[-4:]}"


def test_turned_on_it_serves_logs_and_a_new_key_refuses_the_old(app, bridge):
    call(bridge, "set_api_port", port=free_port())
    status = call(bridge, "set_api_enabled", enabled=True)
    assert status["running"] and status["enabled"]
    url = status["base_url"]
    after = app.events.last_seq
    key = call(bridge, "copy_api_key")["key"]
    listed = httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {key}"})
    assert listed.status_code == 200 and listed.json()["data"][0]["id"].startswith("bundled/")
    rows = call(bridge, "api_log")
    assert rows[-1]["endpoint"] == "GET /v1/models" and rows[-1]["status"] == 200
    assert rows[-1]["client"].startswith("127.0.0.1:") and rows[-1]["duration_ms"] >= 0
    kinds = [event["type"] for event in app.events.poll(after, timeout=1)]
    assert "api_request" in kinds
    call(bridge, "regenerate_api_key")
    assert httpx.get(f"{url}/models", headers={"x-api-key": key}).status_code == 401
    new_key = call(bridge, "copy_api_key")["key"]
    assert httpx.get(f"{url}/models", headers={"x-api-key": new_key}).status_code == 200
    assert call(bridge, "set_api_enabled", enabled=False)["running"] is False
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/models", headers={"x-api-key": new_key})


def test_origins_are_exact_and_never_a_wildcard(bridge):
    assert call(bridge, "set_api_origins", origins=["http://localhost:3000"])["cors_origins"] == [
        "http://localhost:3000"
    ]
    refused = bridge.dispatch("set_api_origins", {"origins": ["*"]})
    assert not refused["ok"]


def test_port_0_serves_on_a_free_port_and_every_address_names_it(bridge):
    status = call(bridge, "set_api_port", port=0)
    assert status["port"] == 0 and status["bound_port"] is None and status["base_url"] is None
    status = call(bridge, "set_api_enabled", enabled=True)
    bound = status["bound_port"]
    assert status["running"] and status["port"] == 0 and bound > 0  # the saved 0 is kept
    assert status["base_url"] == f"http://127.0.0.1:{bound}/v1"
    key = call(bridge, "copy_api_key")["key"]  # the Host check takes the bound port
    assert httpx.get(f"{status['base_url']}/models", headers={"x-api-key": key}).status_code == 200
    assert call(bridge, "set_api_enabled", enabled=False)["base_url"] is None


@pytest.mark.parametrize("port", [-1, 65536])
def test_a_port_out_of_0_to_65535_is_refused(bridge, port):
    assert not bridge.dispatch("set_api_port", {"port": port})["ok"]


def test_a_new_key_is_announced_to_every_view_and_only_masked(app, bridge):
    old = call(bridge, "copy_api_key")["key"]
    after = app.events.last_seq
    status = call(bridge, "regenerate_api_key")
    new = call(bridge, "copy_api_key")["key"]
    announced = [e for e in app.events.poll(after, timeout=1) if e["type"] == "api_server"]
    assert [event["status"] for event in announced] == [status]
    assert status["masked_key"] == f"{new[:4]}…{new[-4:]}" != f"{old[:4]}…{old[-4:]}"
    assert new not in json.dumps(announced, ensure_ascii=False)


def test_on_the_local_network_the_lan_base_url_is_shown_beside_the_loopback_one(
    bridge, monkeypatch
):
    monkeypatch.setattr("localwork.api.server.lan_addresses", lambda: ["192.168.1.5"])
    assert call(bridge, "api_status")["lan_urls"] == []  # loopback only: none
    status = call(bridge, "set_api_lan", lan=True)  # the API stays off: nothing listens
    assert status["base_url"] == "http://127.0.0.1:7373/v1"
    assert status["lan_urls"] == ["http://192.168.1.5:7373/v1"]
    monkeypatch.setattr("localwork.api.server.lan_addresses", lambda: [])
    assert call(bridge, "api_status")["lan_urls"] == []  # no network: the pane says so
