"""A loopback fake of the Hugging Face Hub, for tests and the download benchmark.

A real ThreadingHTTPServer on 127.0.0.1 that answers what huggingface_hub and our transfer
ask: ``/api/models/{repo}`` (siblings with LFS size and sha256), and HEAD/GET
``/{repo}/resolve/{rev}/{file}`` with ETag, X-Repo-Commit, X-Linked-Size, Accept-Ranges and
Range → 206. Faults are set per file; bytes sent are counted per file.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

COMMIT = "0123456789abcdef0123456789abcdef01234567"
GOOD_TOKEN = "hf_test_good_token"
_RANGE = re.compile(r"bytes=(\d+)-(\d*)$")
_PIECE = 64 * 1024


@dataclass
class Faults:
    drop_after: list[int] = field(default_factory=list)  # close mid-file once per offset
    wrong_sha: bool = False  # announce a sha256 the bytes do not have
    status: int | None = None  # answer every GET/HEAD of this file with this status
    bytes_per_second: float | None = None  # slow server
    stall_at: int | None = None  # stop sending (connection open) once this offset is reached
    stall_seconds: float = 0.0
    ignore_range: bool = False
    announce_size: int | None = None  # metadata claims this size (disk-space preflight tests)


@dataclass
class FakeFile:
    data: bytes | None = None
    path: Path | None = None  # serve a file from disk (the real 98 MB model) without loading it
    faults: Faults = field(default_factory=Faults)
    served: int = 0  # bytes written to clients
    gets: int = 0

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else self.path.stat().st_size

    def read(self, start: int, end: int) -> bytes:
        if self.data is not None:
            return self.data[start:end]
        with open(self.path, "rb") as handle:
            handle.seek(start)
            return handle.read(end - start)

    def sha256(self) -> str:
        digest = hashlib.sha256()
        if self.data is not None:
            digest.update(self.data)
        else:
            with open(self.path, "rb") as handle:
                while block := handle.read(1 << 22):
                    digest.update(block)
        return digest.hexdigest()


@dataclass
class FakeRepo:
    files: dict[str, FakeFile] = field(default_factory=dict)
    gated: bool = False  # metadata public, files need GOOD_TOKEN
    private: bool = False  # everything needs GOOD_TOKEN (401 RepoNotFound otherwise)


class FakeHub:
    def __init__(self) -> None:
        self.repos: dict[str, FakeRepo] = {}
        self._hashes: dict[int, str] = {}
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeHub:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def add(self, repo_id: str, name: str, data: bytes | Path, **faults: Any) -> FakeFile:
        repo = self.repos.setdefault(repo_id, FakeRepo())
        kind = {"path": data} if isinstance(data, Path) else {"data": data}
        repo.files[name] = FakeFile(**kind, faults=Faults(**faults))
        return repo.files[name]

    def sha256(self, file: FakeFile) -> str:
        if id(file) not in self._hashes:
            self._hashes[id(file)] = file.sha256()
        return self._hashes[id(file)]

    def file(self, repo_id: str, name: str) -> FakeFile:
        return self.repos[repo_id].files[name]


def _handler_for(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: Any) -> None:  # keep test output clean
            pass

        def _authorized(self) -> bool:
            return self.headers.get("Authorization") == f"Bearer {GOOD_TOKEN}"

        def _error(self, status: int, code: str | None = None) -> None:
            body = json.dumps({"error": code or "error"}).encode()
            self.send_response(status)
            if code:
                self.send_header("X-Error-Code", code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _repo(self, repo_id: str) -> FakeRepo | None:
            repo = hub.repos.get(repo_id)
            if repo is None or (repo.private and not self._authorized()):
                self._error(401 if repo and repo.private else 404, "RepoNotFound")
                return None
            return repo

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path.startswith("/api/models/"):
                self._model_info(path.removeprefix("/api/models/"))
            else:
                self._resolve(path)

        do_HEAD = do_GET

        def _model_info(self, rest: str) -> None:
            repo_id = "/".join(rest.split("/")[:2])
            repo = self._repo(repo_id)
            if repo is None:
                return
            siblings = []
            for name, file in repo.files.items():
                sha = hub.sha256(file)
                if file.faults.wrong_sha:
                    sha = hashlib.sha256(b"not the same bytes").hexdigest()
                size = file.faults.announce_size or file.size
                siblings.append(
                    {
                        "rfilename": name,
                        "size": size,
                        "blobId": sha[:40],
                        "lfs": {"sha256": sha, "size": size, "pointerSize": 134},
                    }
                )
            body = json.dumps(
                {
                    "id": repo_id,
                    "modelId": repo_id,
                    "sha": COMMIT,
                    "private": repo.private,
                    "gated": "manual" if repo.gated else False,
                    "siblings": siblings,
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _resolve(self, path: str) -> None:
            parts = path.lstrip("/").split("/")
            if len(parts) < 5 or parts[2] != "resolve":
                return self._error(404, "EntryNotFound")
            repo = self._repo("/".join(parts[:2]))
            if repo is None:
                return None
            file = repo.files.get("/".join(parts[4:]))
            if file is None:
                return self._error(404, "EntryNotFound")
            if repo.gated and not self._authorized():
                return self._error(401, "GatedRepo")
            if file.faults.status:
                return self._error(file.faults.status)
            self._send_file(file)
            return None

        def _send_file(self, file: FakeFile) -> None:
            size, faults = file.size, file.faults
            start, end = 0, size
            match = _RANGE.match(self.headers.get("Range", ""))
            partial = bool(match) and not faults.ignore_range
            if partial:
                start = int(match.group(1))
                end = int(match.group(2)) + 1 if match.group(2) else size
                if start >= size:
                    return self._error(416)
            self.send_response(206 if partial else 200)
            sha = hub.sha256(file)
            for name, value in (
                ("ETag", f'"{sha}"'),
                ("X-Linked-Etag", f'"{sha}"'),
                ("X-Linked-Size", str(size)),
                ("X-Repo-Commit", COMMIT),
                ("Accept-Ranges", "bytes"),
                ("Content-Type", "application/octet-stream"),
                ("Content-Length", str(end - start)),
            ):
                self.send_header(name, value)
            if partial:
                self.send_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
            self.end_headers()
            if self.command == "HEAD":
                return None
            file.gets += 1
            self._stream(file, start, end)
            return None

        def _stream(self, file: FakeFile, start: int, end: int) -> None:
            faults = file.faults
            offset = start
            began = time.monotonic()
            try:
                while offset < end and not hub._stop.is_set():
                    stop = min(end, offset + _PIECE)
                    drop = next((at for at in faults.drop_after if offset < at <= stop), None)
                    if drop is not None:
                        stop = drop
                    if faults.stall_at is not None and offset <= faults.stall_at < stop:
                        stop = faults.stall_at
                    piece = file.read(offset, stop)
                    self.wfile.write(piece)
                    file.served += len(piece)
                    offset = stop
                    if drop is not None:
                        faults.drop_after.remove(drop)  # each drop happens once
                        self._abort()
                        return
                    if faults.stall_at is not None and offset == faults.stall_at:
                        faults.stall_at = None
                        hub._stop.wait(faults.stall_seconds)
                        self._abort()
                        return
                    if faults.bytes_per_second:
                        due = began + (offset - start) / faults.bytes_per_second
                        hub._stop.wait(max(0.0, due - time.monotonic()))
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _abort(self) -> None:
            self.wfile.flush()
            self.close_connection = True
            # The stream ends short of Content-Length. A FIN (not a RST, which would discard
            # what sits in socket buffers) keeps the served-bytes count equal to what arrived.
            self.connection.shutdown(socket.SHUT_WR)

    return Handler


def make_gguf(
    size: int = 256 * 1024,
    *,
    name: str = "Tiny Test",
    architecture: str = "llama",
    context_length: int = 4096,
    file_type: int = 15,
    chat_template: str = "{% for m in messages %}{{ m.content }}{% endfor %}",
    seed: int = 0,
) -> bytes:
    """A valid GGUF header (the metadata the app reads) padded with random bytes to ``size``."""

    def string(text: str) -> bytes:
        raw = text.encode()
        return struct.pack("<Q", len(raw)) + raw

    entries: list[tuple[str, int, bytes]] = [
        ("general.architecture", 8, string(architecture)),
        ("general.name", 8, string(name)),
        ("general.size_label", 8, string("1M")),
        ("general.file_type", 4, struct.pack("<I", file_type)),
        (f"{architecture}.context_length", 4, struct.pack("<I", context_length)),
        (f"{architecture}.block_count", 4, struct.pack("<I", 4)),
        (f"{architecture}.embedding_length", 4, struct.pack("<I", 256)),
        (f"{architecture}.attention.head_count", 4, struct.pack("<I", 4)),
        ("tokenizer.chat_template", 8, string(chat_template)),
    ]
    header = b"GGUF" + struct.pack("<IQQ", 3, 0, len(entries))
    for key, kind, value in entries:
        header += string(key) + struct.pack("<I", kind) + value
    padding = max(0, size - len(header))
    return header + random.Random(seed).randbytes(padding)
