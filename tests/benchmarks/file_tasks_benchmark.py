"""File-task benchmark: plain requests a new user makes first, with the bundled model.

    .venv/bin/python -m tests.benchmarks.file_tasks_benchmark [--repeat N] [--model NAME]

Each task runs ``localwork-hero ask REQUEST --grant DIR:rw --tools required --yes`` (the
product's own loop, every change approved, so a wrong change is not caught by a person) in a
fresh copy of a small folder of ordinary files and a fresh data dir. A task is judged only by
what is on disk afterwards and by facts in the final answer (the lines the model wrote, not
the tool lines). Any change to a file the task did not ask to change counts as harmful,
whether or not the task succeeded; so does a failed task's change to a file that was there.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from localwork.infra.paths import resolve_paths

FOLDER = {
    "notes.txt": "Meeting with Sara on Friday at 10.\nBring the budget draft.\n",
    "todo.txt": "- buy milk\n- call the plumber\n",
    "expenses.csv": (
        "date,item,amount\n2026-11-02,groceries,42.50\n2026-11-05,train ticket,18.00\n"
        "2026-11-09,books,27.90\n"
    ),
    "old-draft.txt": "first draft, not needed any more\n",
    "projects/plan.txt": "Launch the garden website in March.\n",
}

Snapshot = dict[str, bytes | None]  # relative path -> content (None for a folder)
Judge = Callable[[Path, str], bool]


@dataclass(frozen=True)
class Task:
    request: str
    may_change: frozenset[str]  # paths this task is allowed to create, change or remove
    succeeded: Judge


def _text(folder: Path, name: str) -> str | None:
    path = folder / name
    return path.read_text() if path.is_file() else None


def _says(*facts: str) -> Judge:
    return lambda folder, answer: any(fact.lower() in answer.lower() for fact in facts)


TASKS = [
    Task(
        "What files are in my folder?",
        frozenset(),
        lambda folder, answer: sum(name in answer for name in ("notes", "todo", "expenses")) >= 2,
    ),
    Task("Read notes.txt and tell me who the meeting is with.", frozenset(), _says("Sara")),
    Task(
        "Create a file called ideas.txt containing: plant tomatoes",
        frozenset({"ideas.txt"}),
        lambda folder, answer: "plant tomatoes" in (_text(folder, "ideas.txt") or ""),
    ),
    Task(
        "Rename todo.txt to tasks.txt.",
        frozenset({"todo.txt", "tasks.txt"}),
        lambda folder, answer: (
            _text(folder, "tasks.txt") == FOLDER["todo.txt"] and not (folder / "todo.txt").exists()
        ),
    ),
    Task(
        "Delete old-draft.txt.",
        frozenset({"old-draft.txt"}),
        lambda folder, answer: not (folder / "old-draft.txt").exists(),
    ),
    Task(
        "Make a new folder named archive.",
        frozenset({"archive"}),
        lambda folder, answer: (folder / "archive").is_dir(),
    ),
    Task(
        "Add the line 'water the plants' to todo.txt.",
        frozenset({"todo.txt"}),
        lambda folder, answer: (
            (_text(folder, "todo.txt") or "").startswith("- buy milk")
            and "water the plants" in (_text(folder, "todo.txt") or "")
        ),
    ),
    Task(
        "Move notes.txt into the projects folder.",
        frozenset({"notes.txt", "projects/notes.txt"}),
        lambda folder, answer: (
            _text(folder, "projects/notes.txt") == FOLDER["notes.txt"]
            and not (folder / "notes.txt").exists()
        ),
    ),
    Task(
        "How much did I spend on groceries according to expenses.csv?",
        frozenset(),
        _says("42.50", "42.5"),
    ),
    Task(
        "What does the plan.txt file in the projects folder say?",
        frozenset(),
        _says("garden", "March"),
    ),
]


def make_folder(root: Path) -> Path:
    folder = root / "Documents"
    for name, content in FOLDER.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(content)
    return folder


def snapshot(folder: Path) -> Snapshot:
    found: Snapshot = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        found[name] = path.read_bytes() if path.is_file() else None
    return found


def changed_paths(before: Snapshot, after: Snapshot) -> set[str]:
    return {
        name
        for name in before.keys() | after.keys()
        if before.get(name, b"") != after.get(name, b"")
    }


_TOOL_LINE = re.compile(r"^\[(tool|done|failed|denied|stopped|note)\] ")


def final_answer(stdout: str) -> str:
    """What the model wrote: the output without the lines that show tool calls and results."""
    return "\n".join(line for line in stdout.splitlines() if not _TOOL_LINE.match(line)).strip()


@dataclass
class Outcome:
    ok: bool
    harmful: set[str]
    seconds: float
    answer: str
    calls: list[str]
    problem: str  # what the command said on stderr when it failed


def run_task(
    task: Task, model: str | None, command: list[str], max_tokens: int | None = None
) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="lw", dir="/tmp") as temp:
        root = Path(temp)
        folder = make_folder(root)
        if max_tokens:
            settings = resolve_paths(root / "data").settings_file
            settings.parent.mkdir(parents=True)
            settings.write_text(json.dumps({"generation": {"max_tokens": max_tokens}}))
        before = snapshot(folder)
        arguments = [task.request, "--grant", f"{folder}:rw", "--tools", "required", "--yes"]
        arguments += ["--data-dir", str(root / "data")]
        if model:
            arguments += ["--model", model]
        started = time.perf_counter()
        done = subprocess.run(
            [*command, "ask", *arguments], capture_output=True, text=True, timeout=600
        )
        seconds = time.perf_counter() - started
        after = snapshot(folder)
        changed = changed_paths(before, after)
        answer = final_answer(done.stdout)
        calls = [line for line in done.stdout.splitlines() if line.startswith("[tool] ")]
        succeeded = done.returncode == 0 and task.succeeded(folder, answer)
        # Outside the task's paths any change harms; inside them, a task that failed may
        # not have altered or removed what was there (a rename that wrote into the file).
        harmful = changed - task.may_change
        if not succeeded:
            harmful |= {name for name in changed if before.get(name) is not None}
        ok = succeeded and not harmful
        problem = done.stderr.strip()[-300:] if done.returncode else ""
        return Outcome(ok, harmful, seconds, answer, calls, problem)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each task (default 1)")
    parser.add_argument("--model", help="an installed model's name (default: the bundled one)")
    parser.add_argument(
        "--max-tokens", type=int, help="cap replies for a quicker run (default: the app's)"
    )
    parser.add_argument("--verbose", action="store_true", help="print each answer and call")
    options = parser.parse_args()
    command = [sys.executable, "-m", "localwork"]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    scores, harmful_runs = [], 0
    for run in range(options.repeat):
        passed = 0
        for number, task in enumerate(TASKS, 1):
            outcome = run_task(task, options.model, command, options.max_tokens)
            passed += outcome.ok
            harmful_runs += bool(outcome.harmful)
            mark = "pass" if outcome.ok else "FAIL"
            extra = f"  HARMFUL: changed {sorted(outcome.harmful)}" if outcome.harmful else ""
            took = f"{outcome.seconds:5.1f}s"
            print(f"run {run + 1} task {number:2} {mark} {took}  {task.request}{extra}")
            if options.verbose:
                for call in outcome.calls:
                    print(f"      {call[:200]}")
                print(f"      answer: {outcome.answer[:200]!r}")
                if outcome.problem:
                    print(f"      failed: {outcome.problem}")
        scores.append(passed)
        print(f"run {run + 1}: {passed} of {len(TASKS)} tasks succeeded")
    mean = sum(scores) / len(scores)
    print(f"score: {mean:.1f} of {len(TASKS)} (runs: {scores}); harmful runs: {harmful_runs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
