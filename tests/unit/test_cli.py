import signal
import subprocess

from localwork import __version__
from localwork.engine.local.exits import describe_exit
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
    assert describe_exit(-signal.SIGSEGV) == (
        "The model engine crashed (segmentation fault); the engine log shows no error"
    )
    assert describe_exit(-signal.SIGABRT, "GGML_ASSERT(n_tokens <= n_batch) failed").endswith(
        "aborted; llama.cpp hit an internal check (GGML_ASSERT)"
    )
    assert describe_exit(3, "load ok\nRuntimeError: bad magic\nbye\n") == (
        "The model engine stopped unexpectedly (exit code 3); the engine log ends with "
        '"RuntimeError: bad magic"'
    )


def test_a_kill_is_blamed_on_memory_only_when_memory_ran_out():
    killed = -signal.SIGKILL
    assert "ran out of memory" in describe_exit(killed, memory_ran_out=True)
    assert "ran out of memory" in describe_exit(killed, "ggml: failed to allocate 2 GB")
    free = describe_exit(killed, "llama_context: n_ctx = 8192\n", memory_ran_out=False)
    assert free == (
        "The model engine was killed (SIGKILL) by another program; memory did not run out; "
        "the engine log shows no error"
    )
    assert "or because memory ran out" in describe_exit(killed, memory_ran_out=None)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(localwork_command(*args), capture_output=True, text=True, timeout=60)


def test_a_grant_with_an_unknown_mode_names_the_mode(tmp_path):
    result = run_cli("tool", "list_directory", "{}", "--grant", f"{tmp_path}:rx")
    assert result.returncode == 2
    assert "unknown mode 'rx'" in result.stderr and "DIR:rw" in result.stderr
    assert "No such file" not in result.stderr


def test_a_folder_whose_name_has_a_colon_can_still_be_granted(tmp_path):
    odd = tmp_path / "notes:2024"
    odd.mkdir()
    result = run_cli("tool", "list_directory", '{"path": "."}', "--grant", str(odd))
    assert result.returncode == 0, result.stderr


def test_ask_usage_errors_exit_2_before_any_model_loads(tmp_path):
    empty = run_cli("ask", "", "--data-dir", str(tmp_path))
    assert empty.returncode == 2 and "the prompt is empty" in empty.stderr
    blank = run_cli("ask", "  \n", "--data-dir", str(tmp_path))
    assert blank.returncode == 2
    required = run_cli("ask", "List my files", "--tools", "required", "--data-dir", str(tmp_path))
    assert required.returncode == 2
    assert "--grant DIR" in required.stderr and "Folders" not in required.stderr


def test_tool_help_lists_the_nine_tools():
    from localwork.tools.files import FILE_TOOLS

    result = run_cli("tool", "--help")
    assert result.returncode == 0
    listed = result.stdout.split("tools:\n", 1)[1]
    assert len(FILE_TOOLS) == 9
    for name in FILE_TOOLS:
        assert f"  {name} " in listed


def test_every_sub_command_explains_data_dir():
    for command in (
        ["tool"],
        ["ask"],
        ["models", "list"],
        ["models", "import"],
        ["servers", "add"],
        ["servers", "list"],
        ["servers", "remove"],
    ):
        result = run_cli(*command, "--help")
        assert result.returncode == 0, command
        assert "--data-dir DIR" in result.stdout
        assert "keep settings, models, conversations and logs in DIR" in " ".join(
            result.stdout.split()
        ), command


def test_the_window_is_sized_to_the_screen():
    from localwork.transports.desktop import DEFAULT_SIZE, window_size

    assert window_size((1920, 1080)) == DEFAULT_SIZE == (1200, 800)
    assert window_size((1366, 768)) == (1200, 691)
    assert window_size((1024, 600)) == (921, 540)
    assert window_size((640, 400)) == (640, 480)  # never below the minimum size
    assert window_size(None) == DEFAULT_SIZE


def test_ask_help_names_both_kinds_of_model():
    result = run_cli("ask", "--help")
    assert result.returncode == 0
    words = " ".join(result.stdout.split())
    assert "--model MODEL" in words
    assert (
        "an installed model (its id, name or file name) or a saved server's model as "
        "SERVER/MODEL" in words
    )


def test_servers_help_says_the_exit_codes():
    result = run_cli("servers", "remove", "--help")
    assert result.returncode == 0
    assert "Exit 0 when removed, 1 when there is no server of that name." in " ".join(
        result.stdout.split()
    )
