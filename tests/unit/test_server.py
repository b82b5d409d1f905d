import contextlib
import http.client
import json
import socket
import struct
import threading
import time
from urllib.parse import urlsplit

import pytest

from localwork.transports.bridge import Bridge
from localwork.transports.resources import frontend_dir
from localwork.transports.server import BridgeServer
from tests.support.session import session_cookie


@pytest.fixture
def server(app):
    bridge_server = BridgeServer(Bridge(app), frontend_dir(), 0)
    thread = threading.Thread(target=bridge_server.serve_forever, daemon=True)
    thread.start()
    yield bridge_server
    bridge_server.shutdown()
    bridge_server.server_close()


@pytest.fixture
def cookie(server):
    return session_cookie(server.address)


def request(server, method, path, body=None, headers=None, host=None):
    port = server.server_address[1]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    all_headers = {"Host": host or f"127.0.0.1:{port}", **(headers or {})}
    connection.request(method, path, body=body, headers=all_headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


def api(server, method, params=None, cookie="", **overrides):
    headers = {"Content-Type": "application/json", "Cookie": cookie}
    headers.update(overrides.pop("headers", {}))
    return request(server, "POST", f"/api/{method}", json.dumps(params or {}), headers, **overrides)


def raw_post(server, cookie, length_header, body=b""):
    """A POST whose Content-Length is whatever the attacker writes; returns (status, reply)."""
    port = server.server_address[1]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head = (
            f"POST /api/list_conversations HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nCookie: {cookie}\r\n{length_header}\r\n\r\n"
        )
        # A refusal may come before the body is read, which is the point.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head.encode() + body)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    status = int(reply.split(b" ", 2)[1])
    return status, json.loads(reply.split(b"\r\n\r\n", 1)[1])


def test_binds_loopback_only(server):
    assert server.server_address[0] == "127.0.0.1"
    assert server.url.startswith("http://127.0.0.1:")


def test_a_good_call(server, cookie):
    status, body = api(server, "list_conversations", cookie=cookie)
    assert status == 200
    assert json.loads(body) == {"ok": True, "data": []}


def test_a_bare_get_gets_no_page_and_no_credential(server):
    """Issue 16 #3: any local process could GET / and read the bridge token from the page."""
    status, body = request(server, "GET", "/")
    assert status == 401
    assert b"<html" not in body.lower()
    assert not any(server.credentials.has_session(word) for word in body.decode().split())
    for wrong in ("token=guess", "token=", f"nottoken={urlsplit(server.address).query[6:]}"):
        status, _ = request(server, "GET", f"/?{wrong}")
        assert status == 401
    assert api(server, "list_conversations")[0] == 401
    assert api(server, "add_grant", {"path": "/", "mode": "rw"})[0] == 401


def test_the_printed_address_is_exchanged_for_an_httponly_strict_session(server):
    parts = urlsplit(server.address)
    assert parts.query.startswith("token=") and len(parts.query) > 40
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    connection.request("GET", f"/?{parts.query}")
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 303
    assert response.getheader("Location") == "/"  # the secret leaves the address bar
    attributes = [part.strip() for part in response.getheader("Set-Cookie").split(";")]
    assert {"HttpOnly", "SameSite=Strict", "Path=/"} <= set(attributes)
    cookie = attributes[0]
    assert parts.query[6:] not in cookie  # the session is not the secret
    status, body = request(server, "GET", "/", headers={"Cookie": cookie})
    page = body.decode()
    assert status == 200
    assert '<meta name="localwork-transport" content="http">' in page
    assert cookie.split("=", 1)[1] not in page  # script in the page never sees the session
    assert "Content-Security-Policy" in page


def test_the_session_is_required(server, cookie):
    name = cookie.split("=", 1)[0]
    for wrong in ("", f"{name}=guess", f"{name}=", "other=1"):
        assert api(server, "list_conversations", cookie=wrong)[0] == 401
    # Other loopback apps' cookies come along too; a malformed one does not hide ours.
    assert api(server, "list_conversations", cookie=f'bad"=x; {cookie}; z=1')[0] == 200


def test_dns_rebinding_is_refused_by_host_check(server, cookie):
    port = server.server_address[1]
    assert api(server, "list_conversations", cookie=cookie, host=f"evil.example:{port}")[0] == 421
    assert request(server, "GET", "/", host=f"evil.example:{port}")[0] == 421


def test_cross_origin_calls_are_refused(server, cookie):
    for origin in ("http://evil.example", "null", "http://127.0.0.1:1"):
        headers = {"Origin": origin}
        assert api(server, "list_conversations", cookie=cookie, headers=headers)[0] == 403
    same = f"http://127.0.0.1:{server.server_address[1]}"
    assert api(server, "list_conversations", cookie=cookie, headers={"Origin": same})[0] == 200


def test_form_posts_are_refused(server, cookie):
    headers = {"Content-Type": "text/plain"}
    assert api(server, "list_conversations", cookie=cookie, headers=headers)[0] == 415


def test_oversized_requests_are_refused(server, cookie):
    status, reply = raw_post(server, cookie, f"Content-Length: {64 * 1024 * 1024}")
    assert status == 413
    assert reply["error"]["code"] == "invalid_request"


@pytest.mark.parametrize("length", ["-1", "+5", "1_0", " 5x", "٣"])
def test_a_negative_or_odd_content_length_is_refused_at_once(server, cookie, length):
    """Issue 16 #6: ``Content-Length: -1`` passed the cap and the server read until EOF."""
    started = time.monotonic()
    # A megabyte follows and the socket stays open: no EOF would end an unbounded read.
    status, reply = raw_post(server, cookie, f"Content-Length: {length}", b"x" * 1024 * 1024)
    assert status == 400
    assert reply["error"]["code"] == "invalid_request"
    assert time.monotonic() - started < 5


def test_a_chunked_body_is_refused(server, cookie):
    status, reply = raw_post(server, cookie, "Transfer-Encoding: chunked", b"2\r\n{}\r\n0\r\n\r\n")
    assert status == 411
    assert reply["error"]["code"] == "invalid_request"


def test_a_deeply_nested_body_gets_a_reply(server, cookie):
    """Issue 16 #6: 200k nested arrays dropped the connection with no reply."""
    body = b"[" * 200_000 + b"]" * 200_000
    status, reply = raw_post(server, cookie, f"Content-Length: {len(body)}", body)
    assert status == 400
    assert reply["error"]["code"] == "invalid_request"
    assert "nested" in reply["error"]["message"]
    assert api(server, "list_conversations", cookie=cookie)[0] == 200  # still serving


def test_static_files_cannot_escape_the_frontend(server):
    assert request(server, "GET", "/js/main.js")[0] == 200
    for path in ("/../pyproject.toml", "/js/../../README.md", "/%2e%2e/pyproject.toml"):
        assert request(server, "GET", path)[0] == 404


def test_api_needs_post_and_body_must_be_json(server, cookie):
    assert request(server, "GET", "/api/list_conversations")[0] == 405
    headers = {"Content-Type": "application/json", "Cookie": cookie}
    assert request(server, "POST", "/api/list_conversations", b"{oops", headers)[0] == 400


def test_a_tab_closing_during_a_long_poll_prints_no_traceback(server, cookie, app, capfd):
    """A closed tab resets the long-poll's connection: the reply's write fails quietly."""
    port = server.server_address[1]
    body = json.dumps({"after": app.events.last_seq, "timeout": 0.5}).encode()
    head = (
        f"POST /api/poll_events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nCookie: {cookie}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    for _ in range(3):
        tab = socket.create_connection(("127.0.0.1", port))
        tab.sendall(head + body)
        time.sleep(0.1)  # the server is now waiting for events
        tab.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        tab.close()  # with linger 0: a reset, as a browser killing the tab's socket
    time.sleep(1.0)
    assert api(server, "list_conversations", cookie=cookie)[0] == 200
    errors = capfd.readouterr().err
    assert "Traceback" not in errors and "BrokenPipe" not in errors, errors
