"""``localwork-hero servers …`` and ``ask --model SERVER/MODEL`` from a script, in process
(``main([...])``, the output read with capsys), against a scripted OpenAI-compatible server
on 127.0.0.1, and a closed port for a server that is down."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

import pytest

from localwork.cli.main import main
from localwork.engine.local.runtime import ModelRuntime
from tests.conftest import localwork_command
from tests.support.openai_server import Answer, model_list, text_stream

SECRET = "sk-test-5f1c9e0a"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def run(data: Path, capsys: pytest.CaptureFixture[str]):
    """``localwork-hero ARGS --data-dir DATA``: (exit code, stdout, stderr)."""

    def run_command(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()  # what came before is not this command's
        code = main([*args, "--data-dir", str(data)])
        out, err = capsys.readouterr()
        return code, out, err

    return run_command


@pytest.fixture
def no_local_model(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The installed models the run asked to load (a server's model must load none)."""
    loads: list[str | None] = []
    monkeypatch.setattr(ModelRuntime, "load", lambda _self, model_id: loads.append(model_id))
    return loads


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def settings(data: Path) -> dict:
    return json.loads((data / "config" / "settings.json").read_text())


# --- servers add ----------------------------------------------------------------------------
def test_adding_a_server_that_answers_says_its_models(run, server):
    server.models = model_list("Qwen3-8B", "llama-3.1-8b")
    code, out, err = run("servers", "add", "gpu-box", server.url)
    assert (code, err) == (0, "")  # loopback: no warning
    assert out == f"saved gpu-box ({server.url}); 2 models: Qwen3-8B, llama-3.1-8b\n"


def test_a_server_that_is_down_is_saved_and_said_to_be_down(run, data):
    url = closed_port_url()
    code, out, _ = run("servers", "add", "later", url)
    assert code == 0
    assert out.startswith(f"saved later ({url}); it does not answer now: Cannot reach {url}")
    assert [s["name"] for s in settings(data)["servers"]] == ["later"]


@pytest.mark.parametrize(
    ("name", "url", "reason"),
    [
        ("gpu-box", "ftp://example.com/v1", "is not a server address"),
        ("gpu-box", "not a url", "is not a server address"),
        ("a/b", "http://127.0.0.1:8080/v1", "cannot name a server"),
        ("local", "http://127.0.0.1:8080/v1", "a name the app's own models use"),
    ],
)
def test_a_bad_name_or_address_exits_2_with_the_reason(run, name, url, reason):
    code, out, err = run("servers", "add", name, url)
    assert code == 2 and out == ""
    assert err.startswith("localwork-hero servers add: ") and reason in err
    assert run("servers", "list")[1].startswith("no servers yet")


def test_the_same_name_twice_exits_2(run, server):
    assert run("servers", "add", "gpu-box", server.url)[0] == 0
    code, out, err = run("servers", "add", "GPU-box", closed_port_url())
    assert (code, out) == (2, "")
    assert "There is already a server called 'GPU-box'" in err


def test_the_key_is_read_from_the_variable_and_never_printed(run, server, data, monkeypatch):
    monkeypatch.setenv("GPU_BOX_KEY", SECRET)
    code, out, err = run("servers", "add", "gpu-box", server.url, "--key-env", "GPU_BOX_KEY")
    assert code == 0 and out.startswith("saved gpu-box")
    assert server.requests[-1].headers["authorization"] == f"Bearer {SECRET}"
    assert settings(data)["servers"][0]["api_key"] == SECRET  # kept like the Hub token
    listed = run("servers", "list")
    assert SECRET not in out + err + listed[1] + listed[2]


@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_key_variable_that_is_unset_or_empty_exits_2(run, server, data, monkeypatch, value):
    if value is None:
        monkeypatch.delenv("GPU_BOX_KEY", raising=False)
    else:
        monkeypatch.setenv("GPU_BOX_KEY", value)
    code, out, err = run("servers", "add", "gpu-box", server.url, "--key-env", "GPU_BOX_KEY")
    assert (code, out) == (2, "")
    assert "the environment variable GPU_BOX_KEY is not set or is empty" in err
    assert not server.requests  # nothing was saved, so nothing was asked
    assert run("servers", "list")[1].startswith("no servers yet")


def test_plain_http_to_another_machine_is_warned_about(run):
    url = "http://no-such-host.invalid:8080/v1"
    code, out, err = run("servers", "add", "lan", url)
    assert code == 0 and out.startswith(f"saved lan ({url}); it does not answer now: ")
    assert err == (
        f"localwork-hero servers add: warning: {url} is plain http to another machine: "
        "prompts, replies and the key cross the network unencrypted (use https, or an SSH "
        "tunnel to a loopback address)\n"
    )


# --- servers list / remove --------------------------------------------------------------------
def test_list_says_each_servers_state_and_models(run, server):
    assert run("servers", "list") == (
        0,
        "no servers yet: add one with 'localwork-hero servers add NAME URL' (e.g. "
        "localwork-hero servers add gpu-box http://192.168.1.20:8080/v1)\n",
        "",
    )
    server.models = model_list("Qwen3-8B")
    down = closed_port_url()
    run("servers", "add", "gpu-box", server.url)
    run("servers", "add", "later", down)
    code, out, err = run("servers", "list")
    assert (code, err) == (0, "")
    ready, failed = out.splitlines()
    assert ready == f"gpu-box\t{server.url}\tready\t1 model: Qwen3-8B"
    assert failed.startswith(f"later\t{down}\tfailed: Cannot reach {down}: ")

    server.models = Answer(404, {"error": "no such route"})
    assert run("servers", "list")[1].splitlines()[0] == (
        f"gpu-box\t{server.url}\tready\t(it does not list its models)"
    )


def test_remove_forgets_a_server_and_an_unknown_name_exits_1(run, server, data):
    run("servers", "add", "gpu-box", server.url)
    assert run("servers", "remove", "GPU-BOX") == (0, "removed gpu-box\n", "")
    assert settings(data)["servers"] == []
    code, out, err = run("servers", "remove", "gpu-box")
    assert (code, out) == (1, "")
    assert err == (
        "localwork-hero servers remove: There is no server called 'gpu-box'. "
        "See 'localwork-hero servers list'.\n"
    )


def test_removing_the_selected_servers_server_says_the_selection_went_back(run, server, data):
    run("servers", "add", "gpu-box", server.url)
    saved = settings(data)
    saved["selected_model"] = "gpu-box/Qwen3-8B"
    (data / "config" / "settings.json").write_text(json.dumps(saved))
    code, out, _ = run("servers", "remove", "gpu-box")
    assert code == 0
    assert out == (
        "removed gpu-box\ngpu-box/Qwen3-8B was the selected model: the last installed model "
        "used is selected again\n"
    )
    assert settings(data)["selected_model"] is None


# --- ask --model SERVER/MODEL -------------------------------------------------------------------
def test_ask_streams_the_servers_reply_and_keeps_the_saved_selection(
    run, server, data, no_local_model
):
    run("servers", "add", "gpu-box", server.url)
    before = (data / "config" / "settings.json").read_text()
    server.script(text_stream("Hello", " from", " the box."))
    code, out, err = run("ask", "Hi there", "--model", "gpu-box/Qwen3-8B")
    assert (code, out) == (0, "Hello from the box.\n"), err
    assert server.chat_requests()[0].body["model"] == "Qwen3-8B"
    assert no_local_model == []  # the installed model was never loaded
    assert (data / "config" / "settings.json").read_text() == before  # selection untouched


def test_ask_exits_1_with_the_reason_when_the_server_fails(run, server, no_local_model):
    run("servers", "add", "gpu-box", server.url)
    server.script(Answer(500, "model crashed", media_type="text/plain"))
    code, out, err = run("ask", "Hi", "--model", "gpu-box/Qwen3-8B")
    assert (code, out) == (1, "")
    assert err.startswith(f"localwork-hero ask: {server.url} had an error (500: model crashed)")


def test_a_reply_cut_mid_way_exits_1_and_keeps_what_was_written(run, server, no_local_model):
    run("servers", "add", "gpu-box", server.url)
    server.script(text_stream("The first", " half", " and never the rest.", drop_after=2))
    code, out, err = run("ask", "Hi", "--model", "gpu-box/Qwen3-8B")
    assert code == 1
    assert out == "The first half\n"
    assert err.startswith("localwork-hero ask: ") and server.url in err


def test_a_reply_that_stalls_fails_within_30_seconds(run, server, no_local_model):
    run("servers", "add", "gpu-box", server.url)
    server.script(text_stream("Working", " on it", " …", stall_after=2))
    started = time.monotonic()
    code, out, err = run("ask", "Hi", "--model", "gpu-box/Qwen3-8B")
    elapsed = time.monotonic() - started
    assert code == 1 and elapsed < 30, (code, elapsed)
    assert out == "Working on it\n"
    assert f"{server.url} stopped sending for 25 s in the middle of the reply" in err


def test_a_model_that_is_neither_a_servers_nor_installed_exits_2(run, server, no_local_model):
    run("servers", "add", "gpu-box", server.url)
    code, out, err = run("ask", "Hi", "--model", "nobox/Qwen3-8B")
    assert (code, out) == (2, "")
    assert "no installed model is called 'nobox/Qwen3-8B'" in err
    assert "servers: gpu-box" in err and "installed: " in err
    assert not server.chat_requests()


# --- the real entry point -----------------------------------------------------------------------
def test_servers_list_as_a_real_process(run, server, data):
    server.models = model_list("Qwen3-8B", "llama-3.1-8b")
    run("servers", "add", "gpu-box", server.url)
    result = subprocess.run(
        localwork_command("servers", "list", "--data-dir", str(data)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"gpu-box\t{server.url}\tready\t2 models: Qwen3-8B, llama-3.1-8b\n"
