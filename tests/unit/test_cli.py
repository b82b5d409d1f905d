import signal
import subprocess

from localwork import __version__
from localwork.engine.client import describe_exit
from tests.conftest import localwork_command


def test_version():
    result = subprocess.run(localwork_command("--version"), capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout.strip() == f"localwork-hero {__version__}"


def test_port_needs_serve():
    result = subprocess.run(localwork_command("--port", "8080"), capture_output=True, text=True)
    assert result.returncode == 2
    assert "--port needs --serve" in result.stderr


def test_serve_and_self_test_are_exclusive():
    result = subprocess.run(
        localwork_command("--serve", "--self-test"), capture_output=True, text=True
    )
    assert result.returncode == 2


def test_crash_reasons_in_plain_words():
    assert describe_exit(-signal.SIGSEGV) == "The model engine crashed (segmentation fault)"
    assert "ran out of memory" in describe_exit(-signal.SIGKILL)
    assert describe_exit(-signal.SIGABRT, "GGML_ASSERT(n_tokens <= n_batch) failed").endswith(
        "aborted; llama.cpp hit an internal check (GGML_ASSERT)"
    )
    assert describe_exit(3) == "The model engine stopped unexpectedly (exit code 3)"
