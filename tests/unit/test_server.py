import http.client
import json
import socket
import struct
import threading
import time

import pytest

from localwork.bridge import Bridge
from localwork.resources import frontend_dir
from localwork.server import TOKEN_HEADER, BridgeServer


@pytest.fixture
def server(app):
    bridge_server = BridgeServer(Bridge(app), frontend_dir(), 0)
    thread = threading.Thread(target=bridge_server.serve_forever, daemon=True)
    thread.start()
    yield bridge_server
    bridge_server.shutdown()
    bridge_server.server_close()


def request(server, method, path, body=None, headers=None, host=None):
    port = server.server_address[1]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    all_headers = {"Host": host or f"127.0.0.1:{port}", **(headers or {})}
    connection.request(method, path, body=body, headers=all_headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


def api(server, method, params=None, **overrides):
    headers = {"Content-Type": "application/json", TOKEN_HEADER: server.token}
    headers.update(overrides.pop("headers", {}))
    return request(server, "POST", f"/api/{method}", json.dumps(params or {}), headers, **overrides)


def test_binds_loopback_only(server):
    assert server.server_address[0] == "127.0.0.1"
    assert server.url.startswith("http://127.0.0.1:")


def test_a_good_call(server):
    status, body = api(server, "list_conversations")
    assert status == 200
    assert json.loads(body) == {"ok": True, "data": []}


def test_index_carries_the_token_and_a_csp(server):
    status, body = request(server, "GET", "/")
    page = body.decode()
    assert status == 200
    assert f'<meta name="localwork-token" content="{server.token}">' in page
    assert "Content-Security-Policy" in page


def test_token_is_required(server):
    assert api(server, "list_conversations", headers={TOKEN_HEADER: ""})[0] == 401
    assert api(server, "list_conversations", headers={TOKEN_HEADER: "guess"})[0] == 401


def test_dns_rebinding_is_refused_by_host_check(server):
    port = server.server_address[1]
    assert api(server, "list_conversations", host=f"evil.example:{port}")[0] == 421
    assert request(server, "GET", "/", host=f"evil.example:{port}")[0] == 421


def test_cross_origin_calls_are_refused(server):
    for origin in ("http://evil.example", "null", "http://127.0.0.1:1"):
        assert api(server, "list_conversations", headers={"Origin": origin})[0] == 403
    same = f"http://127.0.0.1:{server.server_address[1]}"
    assert api(server, "list_conversations", headers={"Origin": same})[0] == 200


def test_form_posts_are_refused(server):
    status, _ = api(server, "list_conversations", headers={"Content-Type": "text/plain"})
    assert status == 415


def test_oversized_requests_are_refused(server):
    port = server.server_address[1]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest("POST", "/api/list_conversations", skip_host=True)
    for name, value in (
        ("Host", f"127.0.0.1:{port}"),
        ("Content-Type", "application/json"),
        (TOKEN_HEADER, server.token),
        ("Content-Length", str(64 * 1024 * 1024)),
    ):
        connection.putheader(name, value)
    connection.endheaders()
    assert connection.getresponse().status == 413
    connection.close()


def test_static_files_cannot_escape_the_frontend(server):
    assert request(server, "GET", "/js/main.js")[0] == 200
    for path in ("/../pyproject.toml", "/js/../../README.md", "/%2e%2e/pyproject.toml"):
        assert request(server, "GET", path)[0] == 404


def test_api_needs_post_and_body_must_be_json(server):
    assert request(server, "GET", "/api/list_conversations")[0] == 405
    headers = {"Content-Type": "application/json", TOKEN_HEADER: server.token}
    assert request(server, "POST", "/api/list_conversations", b"{oops", headers)[0] == 400


def test_a_tab_closing_during_a_long_poll_prints_no_traceback(server, app, capfd):
    """A closed tab resets the long-poll's connection: the reply's write fails quietly."""
    port = server.server_address[1]
    body = json.dumps({"after": app.events.last_seq, "timeout": 0.5}).encode()
    head = (
        f"POST /api/poll_events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\n{TOKEN_HEADER}: {server.token}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    for _ in range(3):
        tab = socket.create_connection(("127.0.0.1", port))
        tab.sendall(head + body)
        time.sleep(0.1)  # the server is now waiting for events
        tab.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        tab.close()  # with linger 0: a reset, as a browser killing the tab's socket
    time.sleep(1.0)
    assert api(server, "list_conversations")[0] == 200
    errors = capfd.readouterr().err
    assert "Traceback" not in errors and "BrokenPipe" not in errors, errors
