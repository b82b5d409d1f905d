"""``localwork-hero servers add NAME URL [--key-env VAR] | list | remove NAME``.

The same server list the Models pane keeps (``library/servers.py``), for scripts. A server is
saved even when it does not answer (it is said apart). Exit codes: 0 on success, 1 when the
operation failed (no server of that name to remove), 2 for bad usage (a bad name or address,
a name taken, a key variable that is not set).
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from localwork.cli.options import add_data_dir_option

if TYPE_CHECKING:  # the parser is built on every start (even the engine worker's): stay light
    from localwork.library.servers import ServerService

_PRESETS = "llama-server :8080, vLLM :8000, Ollama :11434, LM Studio :1234, LiteLLM :4000"


def add_parser(commands: argparse._SubParsersAction) -> None:
    servers = commands.add_parser(
        "servers",
        help="add, list or remove OpenAI-compatible servers whose models the app can use",
        description="Manage the servers of the Models pane (llama-server, vLLM, Ollama, "
        "LM Studio, LiteLLM…). A server's model is then NAME/MODEL, e.g. "
        "'localwork-hero ask --model gpu-box/Qwen3-8B …'. Exit 0 on success, 1 when the "
        "operation failed (e.g. no server of that name to remove), 2 for bad usage (a bad "
        "name or address, a name already taken, a key variable that is not set).",
    )
    actions = servers.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser(
        "add",
        help="save a server (it need not be up) and say whether it answers now",
        description="Save a server and say whether it answers now; it is saved even when it "
        f"does not. Usual addresses on this machine: {_PRESETS} (each http://HOST:PORT/v1). "
        "Exit 0 once saved, 2 for a bad name or address, a name already taken, or a key "
        "variable that is not set.",
    )
    add.add_argument(
        "name",
        help="what to call it: letters, digits, '.', '_', '-' (up to 40; not 'local' or 'bundled')",
    )
    add.add_argument("url", help="its OpenAI base URL, e.g. http://192.168.1.20:8080/v1")
    add.add_argument(
        "--key-env",
        metavar="VAR",
        help="read the server's API key from environment variable VAR (so it stays out of "
        "the command line); it is kept in the settings file, like the Hub token",
    )
    actions.add_parser(
        "list",
        help="each server with its address, whether it answers and the models it lists",
        description="One line per server: its name, address, state (ready, or failed: the "
        "reason) and the models it lists, tab-separated. Exit 0.",
    )
    remove = actions.add_parser(
        "remove",
        help="forget a server",
        description="Forget a server. If one of its models was selected, the last installed "
        "model used is selected again. Exit 0 when removed, 1 when there is no server of "
        "that name.",
    )
    remove.add_argument("name", help="the server's name")
    for action in actions.choices.values():
        add_data_dir_option(action)


def run(args: argparse.Namespace) -> int:
    from localwork.errors import LocalWorkError, NotFound
    from localwork.infra.logs import open_data_dir
    from localwork.library.servers import ServerService
    from localwork.settings import SettingsStore

    command = f"localwork-hero servers {args.action}"
    paths = open_data_dir(args.data_dir)
    service = ServerService(SettingsStore(paths.settings_file), _NoModelRuns())
    try:
        if args.action == "add":
            return _add(service, command, args.name, args.url, args.key_env)
        if args.action == "list":
            return _list(service)
        return _remove(service, args.name)
    except NotFound as error:
        print(f"{command}: {error.message} See 'localwork-hero servers list'.", file=sys.stderr)
        return 1
    except LocalWorkError as error:
        print(f"{command}: {error.message}", file=sys.stderr)
        return 1


class _NoModelRuns:
    """The command line runs no model while it changes the list: a changed selection is
    applied when the app (or ``ask``) next starts."""

    def apply_selection(self) -> None:
        pass


def _add(service: ServerService, command: str, name: str, url: str, key_env: str | None) -> int:
    from localwork.engine.remote.address import is_unencrypted_remote
    from localwork.errors import InvalidRequest, SettingsError

    api_key = None
    if key_env is not None:
        api_key = os.environ.get(key_env, "").strip()
        if not api_key:
            print(
                f"{command}: the environment variable {key_env} is not set or is empty: set "
                f"it to the server's API key first (e.g. read -rs {key_env}; export {key_env})",
                file=sys.stderr,
            )
            return 2
    try:
        saved = service.add(name, url, api_key)
    except (InvalidRequest, SettingsError) as error:  # a bad address; a bad or taken name
        print(f"{command}: {error.message}", file=sys.stderr)
        return 2
    server = next(s for s in saved["servers"] if s["name"].lower() == name.strip().lower())
    if is_unencrypted_remote(server["base_url"]):
        print(
            f"{command}: warning: {server['base_url']} is plain http to another machine: "
            "prompts, replies and the key cross the network unencrypted (use https, or an SSH "
            "tunnel to a loopback address)",
            file=sys.stderr,
        )
    state = service.probe(server["name"])
    print(f"saved {server['name']} ({server['base_url']}); {_state_after_add(state)}")
    return 0


def _state_after_add(state: dict[str, Any]) -> str:
    if state["state"] != "ready":
        return f"it does not answer now: {state['reason']}"
    if not state["listed"]:
        return "it answers, but does not list its models: ask for SERVER/MODEL by its id"
    return _counted(state["models"])


def _counted(models: list[str]) -> str:
    if not models:
        return "0 models"
    noun = "model" if len(models) == 1 else "models"
    return f"{len(models)} {noun}: {', '.join(models)}"


def _list(service: ServerService) -> int:
    servers = service.overview()["servers"]
    if not servers:
        print(
            "no servers yet: add one with 'localwork-hero servers add NAME URL' "
            "(e.g. localwork-hero servers add gpu-box http://192.168.1.20:8080/v1)"
        )
        return 0
    # Each probe waits a few seconds at most (ServerService.PROBE_TIMEOUTS): ask all at once.
    with ThreadPoolExecutor(max_workers=min(8, len(servers))) as pool:
        states = list(pool.map(service.probe, [server["name"] for server in servers]))
    for server, state in zip(servers, states, strict=True):
        print(f"{server['name']}\t{server['base_url']}\t{_listed_state(state)}")
    return 0


def _listed_state(state: dict[str, Any]) -> str:
    if state["state"] != "ready":
        return f"failed: {state['reason']}"
    if not state["listed"]:
        return "ready\t(it does not list its models)"
    return f"ready\t{_counted(state['models'])}"


def _remove(service: ServerService, name: str) -> int:
    before = service.overview()
    after = service.remove(name)
    gone = {s["name"] for s in before["servers"]} - {s["name"] for s in after["servers"]}
    print(f"removed {''.join(gone) or name}")
    if before["selected"] is not None and after["selected"] is None:
        print(
            f"{before['selected']} was the selected model: the last installed model used is "
            "selected again"
        )
    return 0
