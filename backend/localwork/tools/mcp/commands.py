"""Finds the program a stdio server's command names (``npx``, ``uvx``, a full path…).

An app started from a desktop launcher often has a short PATH (``/usr/bin:/bin``) without the
folders where nvm, Homebrew or uv put ``npx`` and ``uvx``; a terminal has them because the
login shell adds them. So a command that is not on the app's PATH is looked up on the login
shell's, and the server then runs with that PATH (``npx`` is a ``#!/usr/bin/env node`` script:
it needs ``node`` on its PATH as well).
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass

from localwork.errors import McpCommandNotFound

log = logging.getLogger(__name__)

_LOGIN_SHELL_TIMEOUT = 10.0
_MARKER = "__localwork_path__"

# What to install for each well-known launcher, for the "command not found" message.
_NODE = "install Node.js (it comes with npm and npx)"
_UV = "install uv (it comes with uvx: https://docs.astral.sh/uv/)"
_PYTHON = "install Python 3"
_INSTALL_HINTS = {
    "npx": _NODE,
    "npm": _NODE,
    "node": _NODE,
    "pnpm": "install pnpm",
    "yarn": "install Yarn",
    "bun": "install Bun",
    "bunx": "install Bun (it comes with bunx)",
    "deno": "install Deno",
    "uvx": _UV,
    "uv": _UV,
    "python": _PYTHON,
    "python3": _PYTHON,
    "pip": _PYTHON,
    "pipx": "install pipx",
    "docker": "install Docker",
}


@dataclass(frozen=True)
class ResolvedCommand:
    executable: str  # an absolute path
    search_path: str | None = None  # the PATH it was found on, when not the one it was given


def resolve_command(
    command: str,
    *,
    search_path: str | None = None,
    cwd: str | None = None,
    shell: str | None = None,
) -> ResolvedCommand:
    """The executable ``command`` names: a path as it is (relative to ``cwd``), or a bare name
    on ``search_path`` (default: the app's PATH), then on the login ``shell``'s (default
    ``$SHELL``).

    Raises:
        McpCommandNotFound: none of those has it; the message says what to install.
    """
    command = os.path.expanduser(command)
    if os.sep in command or (os.altsep and os.altsep in command):
        full = os.path.join(os.path.expanduser(cwd or os.getcwd()), command)
        if os.path.isfile(full) and os.access(full, os.X_OK):
            return ResolvedCommand(os.path.abspath(full))
        problem = "is not executable" if os.path.isfile(full) else "does not exist"
        raise McpCommandNotFound(f"command not found: {command} ({full} {problem}).")
    search_path = search_path if search_path is not None else os.environ.get("PATH", os.defpath)
    found = shutil.which(command, path=search_path)
    if found:
        return ResolvedCommand(os.path.abspath(found))
    login_path = login_shell_path(shell or os.environ.get("SHELL", ""))
    found = shutil.which(command, path=login_path) if login_path else None
    if found:
        log.info("found %s on the login shell's PATH: %s", command, found)
        return ResolvedCommand(os.path.abspath(found), search_path=login_path)
    hint = _INSTALL_HINTS.get(command.lower().removesuffix(".exe"), f"install {command}")
    raise McpCommandNotFound(
        f"command not found: {command} — {hint}, or give the full path to {command} "
        "in the server's settings."
    )


@functools.lru_cache(maxsize=8)
def login_shell_path(shell: str) -> str | None:
    """The PATH an interactive login ``shell`` sets up (rc files included: nvm lives in
    ``.bashrc``), or None if it cannot tell within a few seconds."""
    if os.name != "posix" or not shell:
        return None
    script = f'printf "{_MARKER}%s{_MARKER}" "$PATH"'
    try:
        shown = subprocess.run(
            [shell, "-l", "-i", "-c", script],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=_LOGIN_SHELL_TIMEOUT,
            # Its own session: an interactive shell must not take over the app's terminal.
            start_new_session=True,
            check=False,
        ).stdout.decode(errors="replace")
    except (OSError, subprocess.SubprocessError) as error:
        log.warning("could not ask the login shell %s for its PATH: %s", shell, error)
        return None
    # rc files may print banners around it; the markers find the PATH among them.
    _, found, rest = shown.partition(_MARKER)
    path, closed, _ = rest.partition(_MARKER)
    return path if found and closed and path else None
