"""Which base URLs are accepted and how they are written; which send traffic unencrypted;
the key kept out of sight."""

from __future__ import annotations

import pytest

from localwork.engine.remote.address import is_unencrypted_remote, normalise_base_url
from localwork.engine.remote.connection import RemoteServer
from localwork.errors import InvalidRequest


@pytest.mark.parametrize(
    ("typed", "used"),
    [
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1"),
        ("  http://127.0.0.1:8080/v1/  ", "http://127.0.0.1:8080/v1"),
        ("http://localhost:11434", "http://localhost:11434/v1"),  # no path: /v1
        ("http://localhost:11434/", "http://localhost:11434/v1"),
        ("HTTPS://API.Example.COM/v1", "https://api.example.com/v1"),
        ("https://api.example.com/openai/v1", "https://api.example.com/openai/v1"),  # kept
        ("https://example.com/v1beta/openai/", "https://example.com/v1beta/openai"),
        ("http://h:1234/v1/chat/completions", "http://h:1234/v1"),  # a pasted endpoint
        ("http://h:1234/v1/models", "http://h:1234/v1"),
        ("http://[::1]:8000", "http://[::1]:8000/v1"),
    ],
)
def test_a_base_url_is_written_one_way(typed, used):
    assert normalise_base_url(typed) == used


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("ftp://example.com/v1", "not a server address"),
        ("localhost:8080", "not a server address"),  # no scheme
        ("example.com/v1", "not a server address"),
        ("http:///v1", "not a server address"),
        ("file:///etc/passwd", "not a server address"),
        ("http://user:secret@example.com/v1", "API key in its own field"),
        ("http://example.com/v1?key=1", "cannot have"),
        ("http://example.com/v1#top", "cannot have"),
        ("http://example.com:99999/v1", "port"),
    ],
)
def test_other_addresses_are_refused_with_what_to_type(typed, says):
    with pytest.raises(InvalidRequest, match=says):
        normalise_base_url(typed)


@pytest.mark.parametrize(
    ("url", "unencrypted"),
    [
        ("http://127.0.0.1:8080/v1", False),
        ("http://127.5.6.7:8080", False),
        ("http://localhost:11434", False),
        ("http://LOCALHOST:11434", False),
        ("http://[::1]:8000", False),
        ("http://[::ffff:127.0.0.1]:8000", False),
        ("https://api.example.com/v1", False),
        ("https://192.168.1.20/v1", False),
        ("http://192.168.1.20:8080/v1", True),  # the LAN can read it
        ("http://10.0.0.2/v1", True),
        ("http://example.com/v1", True),
        ("http://127.0.0.1.nip.io/v1", True),  # names are not trusted to be loopback
        ("http://localhost.example.com/v1", True),
    ],
)
def test_plain_http_off_this_machine_is_unencrypted(url, unencrypted):
    assert is_unencrypted_remote(url) is unencrypted


def test_the_server_keeps_a_normalised_url_and_hides_its_key():
    server = RemoteServer("http://localhost:8080/", "  sk-secret  ")
    assert server.base_url == "http://localhost:8080/v1"
    assert server.api_key == "sk-secret"
    assert "sk-secret" not in repr(server)
    assert server.url("/models") == "http://localhost:8080/v1/models"


def test_an_empty_key_is_no_key_and_a_key_with_a_line_break_is_refused():
    assert RemoteServer("http://localhost:8080", "   ").api_key is None
    with pytest.raises(InvalidRequest, match="cannot be sent"):
        RemoteServer("http://localhost:8080", "sk-a\r\nX-Evil: 1")
