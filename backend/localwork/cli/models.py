"""``localwork-hero models list | download REPO FILE | import PATH | remove NAME |
format NAME [FORMAT]``.

The same registry, Hub client and transfer the app uses, for scripts and tests. Exit codes:
0 on success, 1 when the operation failed (the reason on stderr), 2 for bad usage.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from localwork.cli.options import add_data_dir_option

if TYPE_CHECKING:  # the parser is built on every start (even the engine worker's): stay light
    from localwork.models.hub import HubClient
    from localwork.models.registry import ModelRegistry
    from localwork.settings import SettingsStore

_PROGRESS_EVERY = 0.5


def add_parser(commands: argparse._SubParsersAction) -> None:
    models = commands.add_parser(
        "models",
        help="list, download, import or remove models",
        description="Manage models like the settings pane does. Honours HF_ENDPOINT and "
        "HF_TOKEN. Exit 0 on success, 1 when the operation failed, 2 for bad usage.",
    )
    actions = models.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="installed models, or the GGUF files of REPO")
    listing.add_argument(
        "repo", nargs="?", help="a Hub repo id, e.g. Qwen/Qwen2.5-1.5B-Instruct-GGUF"
    )
    download = actions.add_parser("download", help="download (or resume) one GGUF file")
    download.add_argument("repo", help="the Hub repo id")
    download.add_argument("file", help="the GGUF file (any part of a split model fetches all)")
    imported = actions.add_parser("import", help="copy a local .gguf into the models folder")
    imported.add_argument("path", help="the .gguf file")
    imported.add_argument("--link", action="store_true", help="link to the file instead of copying")
    remove = actions.add_parser("remove", help="delete a model (its id, name or file name)")
    remove.add_argument("name")
    formats = "model, chatml, llama3, gemma, mistral, plain"
    prompt = actions.add_parser(
        "format", help="show or set how a model is prompted (for GGUFs without a chat template)"
    )
    prompt.add_argument("name", help="the model's id, name or file name")
    prompt.add_argument("format", nargs="?", help=f"one of: {formats}")
    for action in (listing, download, imported, remove, prompt):
        add_data_dir_option(action)


def run(args: argparse.Namespace) -> int:
    from localwork.errors import InvalidRequest, LocalWorkError
    from localwork.infra.logs import open_data_dir
    from localwork.models.hub import HubClient
    from localwork.models.hubfiles import check_repo_id
    from localwork.models.registry import ModelRegistry
    from localwork.settings import SettingsStore

    command = f"localwork-hero models {args.action}"
    try:
        if getattr(args, "repo", None):
            check_repo_id(args.repo)
    except InvalidRequest as error:
        print(f"{command}: {error.message}", file=sys.stderr)
        return 2
    paths = open_data_dir(args.data_dir)
    registry = ModelRegistry(paths.models_dir)
    hub = HubClient(token=SettingsStore(paths.settings_file).current.hf_token)
    try:
        if args.action == "list":
            return _list(registry, hub, args.repo)
        if args.action == "download":
            return _download(registry, hub, paths.models_dir, args.repo, args.file)
        if args.action == "import":
            model = registry.import_file(Path(args.path), "link" if args.link else "copy")
            print(model.id)
            return 0
        if args.action == "format":
            return _format(registry, SettingsStore(paths.settings_file), args.name, args.format)
        freed = registry.remove(_find(registry, args.name))
        print(f"removed {args.name}; freed {freed / 2**20:.1f} MiB")
        return 0
    except LocalWorkError as error:
        print(f"{command}: {error.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{command}: interrupted; run the same command again to resume", file=sys.stderr)
        return 1


def _list(registry: ModelRegistry, hub: HubClient, repo: str | None) -> int:
    if repo:
        for choice in hub.gguf_choices(repo):
            parts = f"  ({len(choice.files)} parts)" if len(choice.files) > 1 else ""
            quant = choice.quantization or "?"
            print(f"{choice.name}\t{quant}\t{_size(choice.size)}{parts}")
        return 0
    for model in registry.installed():
        linked = "  (linked)" if model.linked else ""
        print(f"{model.id}\t{_size(model.size_bytes)}{linked}")
    print(f"disk used by models: {_size(registry.disk_used())}", file=sys.stderr)
    return 0


def _format(registry: ModelRegistry, settings: SettingsStore, name: str, chosen: str | None) -> int:
    """Print the model's prompt format (and whether it has a template); set it if given."""
    from localwork.models.gguf import read_gguf
    from localwork.models.prompt_formats import check_choice

    model = registry.find(_find(registry, name))
    info = read_gguf(model.path)
    if chosen is not None:
        check_choice(chosen, bool(info.chat_template), model.name)
        settings.update({"prompt_formats": {model.id: chosen}})
    current = settings.current.prompt_formats.get(model.id) or info.default_prompt_format
    template = "" if info.chat_template else "  (no chat template — base model?)"
    print(f"{model.id}\t{current}{template}")
    return 0


def _find(registry: ModelRegistry, name: str) -> str:
    """Accept an id, a name or a file name, as long as it names exactly one model."""
    from localwork.errors import InvalidRequest, ModelNotFound

    matches = [model.id for model in registry.matching(name)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ModelNotFound(
            f"No installed model is called {name!r}; see 'localwork-hero models list'."
        )
    raise InvalidRequest(f"{name!r} names several models ({', '.join(matches)}); use the full id.")


def _download(
    registry: ModelRegistry, hub: HubClient, models_dir: Path, repo: str, file: str
) -> int:
    """Progress lines go to stderr; the new model's id to stdout."""
    from localwork.models.downloads import DownloadJob, fetch_choice, model_id_for
    from localwork.models.fetch import TransferPolicy

    choice = hub.choice(repo, file)
    job = DownloadJob(choice, state="downloading")
    last = [0.0]

    def progress(done: int) -> None:
        job.record(done)
        now = time.monotonic()
        if now - last[0] >= _PROGRESS_EVERY or done == choice.size:
            last[0] = now
            info = job.to_dict()
            eta = f"ETA {info['eta_seconds']}s" if info["eta_seconds"] is not None else "ETA ?"
            percent = 100 * done / choice.size if choice.size else 100
            print(
                f"{choice.name}: {_size(done)} / {_size(choice.size)} ({percent:.1f}%) "
                f"{_size(info['speed'])}/s {eta}",
                file=sys.stderr,
                flush=True,
            )

    fetch_choice(choice, hub, models_dir, TransferPolicy(), progress)
    model_id = model_id_for(choice.repo_id, choice.name)
    registry.find(model_id)  # it must now be listed, or something is badly wrong
    print(model_id)
    return 0


def _size(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.1f} {unit}" if unit != "B" else f"{int(count)} B"
        count /= 1024
    return f"{count:.1f} GiB"
