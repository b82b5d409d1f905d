"""One file from a URL to disk: resumable, retried, verified, and atomic.

The bytes go to ``<name>.part``; a sidecar ``<name>.part.json`` records what they are (URL,
size, sha256 and who asked), so a restarted app resumes with a Range request instead of
starting again. The sha256 is computed while writing; on resume the kept prefix is hashed
again first, so a damaged prefix cannot slip through. Only a file whose size and sha256 match
is renamed to its final name: nothing half-downloaded ever looks like a model.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import json
import logging
import os
import queue
import re
import shutil
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localwork.errors import (
    DiskFull,
    DownloadCorrupt,
    DownloadError,
    HubAuthRequired,
    HubNotFound,
)
from localwork.infra.atomic import atomic_write_bytes
from localwork.models.hubfiles import TOKEN_HELP

log = logging.getLogger(__name__)

PART_SUFFIX = ".part"
SIDECAR_SUFFIX = ".part.json"
READ_SIZE = 256 * 1024  # bytes per read; also the most a kill can lose, beyond socket buffers
_HASH_BLOCK = 4 * 1024 * 1024
_HASH_QUEUE = 16  # reads waiting for the hashing thread (4 MiB): back-pressure, bounded memory
_SPACE_MARGIN = 64 * 1024 * 1024  # keep some room so the disk is never filled to the last byte
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_RETRYABLE = (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError)


class TransferInterrupted(Exception):
    """Raised by a ``check`` callback to stop between reads; the partial file is kept."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "pause", "cancel" or "shutdown"


@dataclass(frozen=True)
class TransferSpec:
    url: str
    dest: Path
    size: int
    sha256: str | None
    headers: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)  # stored in the sidecar, for listing


@dataclass(frozen=True)
class TransferPolicy:
    retries: int = 6  # consecutive failed attempts without progress before giving up
    backoff: float = 1.0  # first wait; doubles each failure
    backoff_max: float = 30.0
    stall_timeout: float = 30.0  # no byte for this long counts as a dropped connection


@dataclass
class TransferResult:
    path: Path
    resumed_from: int  # bytes reused from an earlier partial file
    fetched: int  # bytes received over the network in this call
    attempts: int


def partial_path(dest: Path) -> Path:
    return dest.with_name(dest.name + PART_SUFFIX)


def sidecar_path(dest: Path) -> Path:
    return dest.with_name(dest.name + SIDECAR_SUFFIX)


def read_sidecar(sidecar: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(sidecar.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def discard_partial(dest: Path) -> None:
    for leftover in (partial_path(dest), sidecar_path(dest)):
        leftover.unlink(missing_ok=True)


def partial_bytes(dest: Path) -> int:
    try:
        return partial_path(dest).stat().st_size
    except OSError:
        return 0


def ensure_space(folder: Path, needed: int) -> None:
    """Raises: DiskFull: ``folder``'s disk has less than ``needed`` bytes (plus a margin)."""
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if needed + _SPACE_MARGIN > free:
        raise DiskFull(
            f"Not enough disk space: the download needs {needed / 2**30:.2f} GiB and only "
            f"{free / 2**30:.2f} GiB is free in {folder}. Free some space (deleting unused "
            "models helps) and try again."
        )


def transfer(
    spec: TransferSpec,
    policy: TransferPolicy,
    on_progress: Callable[[int], None] = lambda _done: None,
    check: Callable[[], None] = lambda: None,
    sleep: Callable[[float], None] = time.sleep,
) -> TransferResult:
    """Download ``spec.url`` to ``spec.dest``, resuming any earlier partial file.

    ``on_progress`` gets the number of bytes on disk; ``check`` may raise
    ``TransferInterrupted`` to pause or cancel (the caller decides what to delete).

    Raises:
        DownloadCorrupt: size or sha256 mismatch; the partial file has been deleted.
        DiskFull: the disk filled up; the partial file is kept for a later resume.
        HubAuthRequired, HubNotFound: the server refused the file.
        DownloadError: the connection kept failing; the partial file is kept.
    """
    spec.dest.parent.mkdir(parents=True, exist_ok=True)
    prefix, offset = _resume_point(spec)
    hasher = _BackgroundHash(prefix)
    try:
        return _transfer(spec, policy, on_progress, check, sleep, hasher, offset)
    finally:
        hasher.close()


def _transfer(
    spec: TransferSpec,
    policy: TransferPolicy,
    on_progress: Callable[[int], None],
    check: Callable[[], None],
    sleep: Callable[[float], None],
    hasher: _BackgroundHash,
    offset: int,
) -> TransferResult:
    resumed_from, fetched, attempts, failures = offset, 0, 0, 0
    on_progress(offset)
    while offset < spec.size:
        check()
        attempts += 1
        before = offset
        try:
            offset = _fetch(spec, policy, offset, hasher, on_progress, check)
            reason = "the connection closed early"
        except _RETRYABLE as error:
            offset = partial_bytes(spec.dest)
            reason = f"{type(error).__name__}: {error}"
        except _Restart:
            hasher.restart()
            offset = 0
            reason = "the server could not continue the earlier partial file"
        fetched += max(0, offset - before)
        if offset >= spec.size:
            break
        failures = 1 if offset > before else failures + 1
        if failures > policy.retries:
            raise DownloadError(
                f"Downloading {spec.dest.name} failed {failures} times in a row ({reason}). "
                "The part already downloaded is kept: resume when the connection is back."
            )
        delay = min(policy.backoff * 2 ** (failures - 1), policy.backoff_max)
        log.info("retrying %s from byte %d in %.1fs: %s", spec.url, offset, delay, reason)
        sleep(delay)
    _verify(spec, hasher, offset)
    os.replace(partial_path(spec.dest), spec.dest)
    sidecar_path(spec.dest).unlink(missing_ok=True)
    return TransferResult(spec.dest, resumed_from, fetched, attempts)


class _BackgroundHash:
    """sha256 on its own thread, so hashing overlaps the network and the disk.

    hashlib releases the GIL on large buffers, so this uses another core. Bytes are on disk
    before they are queued here: a kill loses hash state only, which a resume rebuilds from
    the file, so the bytes fetched twice stay at most one read.
    """

    def __init__(self, prefix: Any) -> None:
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=_HASH_QUEUE)
        self._start(prefix)

    def _start(self, state: Any) -> None:
        self._hash = state
        self._thread = threading.Thread(target=self._run, name="sha256", daemon=True)
        self._thread.start()

    def restart(self) -> None:
        """Forget everything hashed: the file starts again from byte 0."""
        self.close()
        self._start(hashlib.sha256())

    def update(self, data: bytes) -> None:
        self._queue.put(data)

    def _run(self) -> None:
        while (data := self._queue.get()) is not None:
            self._hash.update(data)

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def hexdigest(self) -> str:
        self.close()
        return self._hash.hexdigest()


class _Restart(Exception):
    pass


def _resume_point(spec: TransferSpec) -> tuple[Any, int]:
    """Hash of the reusable prefix and its length; a partial file of other content is dropped."""
    part, sidecar = partial_path(spec.dest), sidecar_path(spec.dest)
    recorded = read_sidecar(sidecar) or {}
    # The same content: same size and hash (a URL may name another revision of the same blob).
    same = (
        recorded.get("size") == spec.size
        and recorded.get("sha256") == spec.sha256
        and (spec.sha256 is not None or recorded.get("url") == spec.url)
    )
    hasher = hashlib.sha256()
    if not (same and part.is_file() and part.stat().st_size <= spec.size):
        discard_partial(spec.dest)
        payload = {**spec.meta, "url": spec.url, "size": spec.size, "sha256": spec.sha256}
        atomic_write_bytes(sidecar, json.dumps(payload, indent=2).encode("utf-8"))
        part.touch()
        return hasher, 0
    with open(part, "rb") as existing:  # re-hash what is kept: the final check covers it too
        while block := existing.read(_HASH_BLOCK):
            hasher.update(block)
    return hasher, part.stat().st_size


def _request(spec: TransferSpec, offset: int) -> urllib.request.Request:
    request = urllib.request.Request(spec.url)
    for name, value in spec.headers.items():
        if name.lower() == "authorization":
            # Never forwarded on a redirect: the Hub redirects large files to a CDN.
            request.add_unredirected_header(name, value)
        else:
            request.add_header(name, value)
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    return request


def _fetch(
    spec: TransferSpec,
    policy: TransferPolicy,
    offset: int,
    hasher: _BackgroundHash,
    on_progress: Callable[[int], None],
    check: Callable[[], None],
) -> int:
    """One HTTP request from ``offset``; returns the new offset when the stream ends."""
    try:
        response = urllib.request.urlopen(_request(spec, offset), timeout=policy.stall_timeout)
    except urllib.error.HTTPError as error:
        _raise_for_status(spec, error.code, offset)
        raise
    with response, open(partial_path(spec.dest), "r+b") as out:
        if offset and response.status == 200:
            raise _Restart  # the server ignored Range: start over rather than append a copy
        if offset:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if not match or int(match.group(1)) != offset:
                raise _Restart
        out.seek(offset)
        out.truncate()
        while True:
            check()
            data = response.read1(READ_SIZE)  # read1: a drop loses no byte already received
            if not data:
                return offset
            if offset + len(data) > spec.size:
                discard_partial(spec.dest)
                raise DownloadCorrupt(
                    f"{spec.dest.name} is larger than the Hub announced ({spec.size} bytes); "
                    "the download was deleted. Try again; if it persists the mirror is broken."
                )
            try:
                out.write(data)
                out.flush()  # a full disk must surface here, with the hash still in step
            except OSError as error:
                _raise_if_no_room(spec, error)
                raise
            hasher.update(data)
            offset += len(data)
            on_progress(offset)


def _raise_if_no_room(spec: TransferSpec, error: OSError) -> None:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        raise DiskFull(
            f"The disk filled up while downloading {spec.dest.name}. Free some space, then "
            "resume: the part already downloaded is kept."
        ) from None
    if error.errno == errno.EFBIG:  # e.g. a FAT32 drive, which caps files at 4 GiB
        raise DiskFull(
            f"{spec.dest.name} is larger than this disk's file system or your file-size limit "
            "allows. Keep models on another disk (--data-dir), then download again."
        ) from None


def _raise_for_status(spec: TransferSpec, status: int, offset: int) -> None:
    if status in (401, 403):
        raise HubAuthRequired(f"The Hub refused {spec.dest.name} ({status}). {TOKEN_HELP}")
    if status == 404:
        discard_partial(spec.dest)
        raise HubNotFound(f"{spec.dest.name} is no longer on the Hub (404).")
    if status == 416 and offset:
        raise _Restart


def _verify(spec: TransferSpec, hasher: _BackgroundHash, offset: int) -> None:
    problem = None
    if offset != spec.size:
        problem = f"{offset} bytes arrived, {spec.size} were announced"
    elif spec.sha256 and (digest := hasher.hexdigest()) != spec.sha256.lower():
        problem = f"its sha256 is {digest}, the Hub announced {spec.sha256}"
    if problem:
        discard_partial(spec.dest)
        raise DownloadCorrupt(
            f"{spec.dest.name} did not match the Hub's record ({problem}), so it was deleted. "
            "Download it again."
        )
