"""Static guards on the frontend: model output must never become code or markup."""

import hashlib
import re

from localwork.transports.resources import frontend_dir
from tests.conftest import REPO_ROOT

FRONTEND = frontend_dir()
VENDOR = FRONTEND / "vendor"
SINKS = re.compile(
    r"\beval\s*\(|new\s+Function\b|\.innerHTML\b|\.outerHTML\b|insertAdjacentHTML|document\.write"
    r"|setTimeout\(\s*['\"`]|setInterval\(\s*['\"`]"
)


def test_no_script_sinks_in_our_javascript():
    offenders = []
    # Vendored libraries are checked by hash below; DOMPurify itself must use innerHTML.
    for script in (FRONTEND / "js").rglob("*.js"):
        for number, line in enumerate(script.read_text("utf-8").splitlines(), 1):
            if SINKS.search(line):
                offenders.append(f"{script.name}:{number}: {line.strip()}")
    assert offenders == []


def test_csp_forbids_inline_script_and_remote_sources():
    page = (FRONTEND / "index.html").read_text("utf-8")
    policy = re.search(r'http-equiv="Content-Security-Policy"\s+content="([^"]+)"', page).group(1)
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
    )
    assert directives["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert directives["object-src"] == ["'none'"]
    for sources in directives.values():
        assert not any(source.startswith(("http", "*", "//")) for source in sources), sources
    assert "<script>" not in page  # only external module scripts


def test_no_inline_event_handlers_in_markup():
    page = (FRONTEND / "index.html").read_text("utf-8")
    assert not re.search(r"\son[a-z]+\s*=", page)


def test_the_pages_logo_is_the_app_icon():
    icon = REPO_ROOT / "assets" / "icon.svg"
    assert (REPO_ROOT / "frontend" / "img" / "logo.svg").read_bytes() == icon.read_bytes()


def test_vendored_libraries_are_the_published_files_with_versions_in_their_names():
    table = (VENDOR / "README.md").read_text("utf-8")
    listed = dict(re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", table, re.M))
    shipped = {p.name for p in VENDOR.iterdir() if p.suffix in (".js", ".css")}
    assert shipped and set(listed) == shipped
    for name, digest in listed.items():
        assert re.search(r"-\d+\.\d+\.\d+\.", name), f"{name} has no version in its name"
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name


def test_our_modules_import_only_local_files():
    for script in (FRONTEND / "js").rglob("*.js"):
        for target in re.findall(r"^import .* from \"([^\"]+)\";", script.read_text(), re.M):
            assert target.startswith("./") or target.startswith("../vendor/"), (script, target)
            assert (script.parent / target).resolve().is_file(), (script, target)
