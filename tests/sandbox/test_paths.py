"""Every class of path the sandbox must decide on, with real files and links."""

import os
import socket
import stat
import threading
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localwork.errors import PathNotFound, SandboxDenied
from localwork.tools.sandbox.fs import Sandbox
from localwork.tools.sandbox.grants import Grant, parse_grant
from tests.sandbox.conftest import SECRET, run


def read(runner, path):
    return runner.run("read_file", {"path": path}, approval="ask")


@pytest.mark.parametrize("path", ["notes.txt", "./notes.txt", "sub/../notes.txt"])
def test_relative_paths_are_taken_from_the_first_grant(runner, path):
    assert read(runner, path).output["content"].startswith("line one")


def test_absolute_paths_inside_any_grant(runner, layout):
    assert read(runner, str(layout.work / "sub" / "deep.txt")).output["content"] == "deep"
    assert read(runner, str(layout.docs / "readme.md")).ok


@pytest.mark.parametrize(
    "path",
    ["../outside/secret.txt", "sub/../../outside/secret.txt", "/etc/passwd", "..", "/"],
)
def test_escapes_are_refused(runner, path):
    result = read(runner, path)
    assert not result.ok and "not inside a granted folder" in result.error


def test_a_sibling_sharing_the_grants_name_prefix_is_outside(runner, layout):
    sibling = layout.work.parent / "work_evil"
    sibling.mkdir()
    (sibling / "x.txt").write_text(SECRET)
    result = read(runner, str(sibling / "x.txt"))
    assert "not inside a granted folder" in result.error


def test_home_shortcut_is_expanded_then_checked(runner):
    assert "not inside a granted folder" in read(runner, "~/anything.txt").error


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("notes\x00.txt", "NUL"),
        ("a" * 5000, "longer than 4096"),
        ("x" * 300 + ".txt", "longer than 255"),
        ("C:\\Windows\\win.ini", "Windows"),
        ("\\\\server\\share\\f.txt", "Windows"),
    ],
)
def test_malformed_paths(runner, path, message):
    result = read(runner, path)
    assert not result.ok and message in result.error


def test_symlinks_are_never_followed(runner, layout):
    links = {
        "to-secret": layout.secret,
        "to-outside-dir": layout.outside,
        "to-inside-file": layout.work / "notes.txt",
        "dangling": layout.work / "missing.txt",
    }
    for name, target in links.items():
        os.symlink(target, layout.work / name)
    os.symlink(layout.work / "loop-b", layout.work / "loop-a")
    os.symlink(layout.work / "loop-a", layout.work / "loop-b")
    for path in ("to-secret", "to-outside-dir/secret.txt", "to-inside-file", "dangling", "loop-a"):
        result = read(runner, path)
        assert not result.ok and "symbolic link" in result.error, (path, result.error)
    listing = run(runner, "list_directory", path=".").output["entries"]
    assert {"name": "to-secret", "type": "link"} in listing


def test_a_hard_link_to_an_outside_file_is_refused(runner, layout):
    os.link(layout.secret, layout.work / "door.txt")
    result = read(runner, "door.txt")
    assert not result.ok and "hard links" in result.error


def test_fifos_sockets_and_devices_are_refused_without_hanging(runner, layout):
    os.mkfifo(layout.work / "pipe")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(layout.work / "sock"))
    try:
        for name in ("pipe", "sock"):
            result = read(runner, name)
            assert not result.ok and "device, FIFO or socket" in result.error
    finally:
        server.close()
    if os.geteuid() == 0:
        os.mknod(layout.work / "null", stat.S_IFCHR | 0o600, os.makedev(1, 3))
        assert "device, FIFO or socket" in read(runner, "null").error


def test_huge_sparse_files_are_refused_quickly(runner, layout):
    with open(layout.work / "sparse.bin", "wb") as handle:
        handle.truncate(20 * 2**30)
    result = read(runner, "sparse.bin")
    assert not result.ok and "files over" in result.error


def test_the_apps_own_data_is_off_limits_even_inside_a_grant(runner, layout):
    result = read(runner, "LocalWorkHeroData/settings.json")
    assert not result.ok and "LocalWork Hero's own data" in result.error
    names = [e["name"] for e in run(runner, "list_directory", path=".").output["entries"]]
    assert "LocalWorkHeroData" not in names
    found = run(runner, "search_files", path=".", name_glob="*.json").output["matches"]
    assert found == []


def test_a_replaced_grant_root_is_refused(sandbox, layout):
    layout.work.rename(layout.work.with_name("moved"))
    layout.work.mkdir()
    with pytest.raises(SandboxDenied, match="was replaced"), sandbox.folder(sandbox.locate(".")):
        pass


def test_unicode_lookalikes_are_different_folders(runner, layout):
    lookalike = layout.work.parent / "w\u043erk"  # a Cyrillic o
    lookalike.mkdir()
    (lookalike / "x.txt").write_text(SECRET)
    assert "not inside a granted folder" in read(runner, str(lookalike / "x.txt")).error
    decomposed = unicodedata.normalize("NFD", "café.txt")
    (layout.work / decomposed).write_text("nfd")
    assert read(runner, decomposed).output["content"] == "nfd"
    assert isinstance(read(runner, unicodedata.normalize("NFC", "café.txt")).error, str)


def test_missing_paths_say_so(runner):
    assert "no such file or folder" in read(runner, "nope/none.txt").error


def test_grant_specs(layout):
    assert parse_grant(f"{layout.work}:rw").writable
    assert not parse_grant(f"{layout.work}:ro").writable
    assert not parse_grant(str(layout.work)).writable
    with pytest.raises(ValueError, match="cannot grant"):
        parse_grant(str(layout.work / "notes.txt"))


def test_a_racing_swap_to_a_symlink_never_leaks_the_secret(layout):
    """A thread keeps swapping a folder for a link to the outside while reads run."""
    sandbox = Sandbox([Grant.of(layout.work, writable=False)])
    target = layout.work / "swap"
    real = layout.work / "swap-real"
    real.mkdir()
    (real / "secret.txt").write_text("harmless")
    (layout.work / "swap-link").symlink_to(layout.outside)
    stop = threading.Event()

    def swapper():
        while not stop.is_set():
            for source in (real, layout.work / "swap-link"):
                try:
                    os.replace(source, target) if not target.exists() else None
                    os.replace(target, source)
                except OSError:
                    pass

    thread = threading.Thread(target=swapper)
    thread.start()
    seen = set()
    try:
        for _ in range(3000):
            try:
                with sandbox.regular_file(sandbox.locate("swap/secret.txt")) as (fd, _info):
                    seen.add(os.read(fd, 100).decode())
            except (SandboxDenied, PathNotFound):
                seen.add("refused")
    finally:
        stop.set()
        thread.join()
    assert SECRET not in seen
    assert seen & {"harmless", "refused"}


SEGMENTS = st.sampled_from(
    ["..", ".", "sub", "notes.txt", "secret.txt", "outside", "work", "~", "", "link", "x" * 3]
)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(segments=st.lists(SEGMENTS, max_size=8), absolute=st.booleans())
def test_generated_paths_never_resolve_outside_the_grants(sandbox, layout, segments, absolute):
    if not (layout.work / "link").exists():
        (layout.work / "link").symlink_to(layout.outside)
    raw = ("/" if absolute else "") + "/".join(segments)
    try:
        located = sandbox.locate(raw)
    except SandboxDenied:
        return
    roots = [grant.root for grant in sandbox.grants]
    assert any(located.path == root or root in located.path.parents for root in roots)
    try:
        with sandbox.regular_file(located) as (fd, _info):
            assert os.read(fd, 100).decode() != SECRET
    except (SandboxDenied, PathNotFound):
        pass
