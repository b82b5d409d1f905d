"""Talking to the Hugging Face Hub: repo metadata, file URLs, auth headers and errors.

huggingface_hub does the talking (it honours ``HF_ENDPOINT``, ``HF_TOKEN`` and offline mode);
its exceptions are translated here, by type, into errors that tell the user what to do. The
bytes themselves are fetched by ``transfer.py``, because huggingface_hub neither resumes nor
verifies a download.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
from huggingface_hub import HfApi, hf_hub_url
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    HFValidationError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import build_hf_headers

from localwork.errors import HubAuthRequired, HubError, HubNotFound, HubOffline, InvalidRequest

DEFAULT_ENDPOINT = "https://huggingface.co"
TOKEN_HELP = (
    "Accept the model's licence on its Hugging Face page, then give LocalWork Hero an access "
    "token: set HF_TOKEN, or paste it in Settings → Models (it is stored only on this computer)."
)
_METADATA_TIMEOUT = 20.0
_SPLIT = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)
_QUANT = re.compile(r"[-._]((?:I?Q\d[A-Z0-9_]*)|BF16|F16|F32)(?=[-.])", re.IGNORECASE)
_REPO_ID = re.compile(r"^[\w.-]+/[\w.-]+$")


@dataclass(frozen=True)
class HubFile:
    path: str  # path inside the repo
    size: int
    sha256: str | None  # the LFS object id; None for small non-LFS files


@dataclass(frozen=True)
class GgufChoice:
    """One model a repo offers: a single GGUF file, or all the parts of a split one."""

    repo_id: str
    revision: str
    files: tuple[HubFile, ...]

    @property
    def name(self) -> str:
        return self.files[0].path

    @property
    def size(self) -> int:
        return sum(file.size for file in self.files)

    @property
    def quantization(self) -> str | None:
        return quantization_of(self.name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "repo_id": self.repo_id,
            "file": self.name,
            "quantization": self.quantization,
            "size_bytes": self.size,
            "parts": len(self.files),
        }


def quantization_of(filename: str) -> str | None:
    match = _QUANT.search(filename.rsplit("/", 1)[-1])
    return match.group(1).upper() if match else None


def split_part(filename: str) -> tuple[int, int] | None:
    """``(part, total)`` for ``name-00001-of-00003.gguf``, else None."""
    match = _SPLIT.search(filename)
    return (int(match.group(1)), int(match.group(2))) if match else None


def check_repo_id(repo_id: str) -> str:
    """Raises: InvalidRequest: the text is not ``owner/name``."""
    cleaned = repo_id.strip()
    if not _REPO_ID.match(cleaned) or ".." in cleaned:
        raise InvalidRequest(
            f"{repo_id!r} is not a Hugging Face repo id; type it as owner/name, e.g. "
            "Qwen/Qwen2.5-1.5B-Instruct-GGUF."
        )
    return cleaned


def group_gguf(repo_id: str, revision: str, files: list[HubFile]) -> list[GgufChoice]:
    """GGUF files as choices; the parts of a split file become one choice, in order."""
    singles: list[GgufChoice] = []
    sets: dict[tuple[str, int], list[tuple[int, HubFile]]] = {}
    for file in files:
        if not file.path.lower().endswith(".gguf"):
            continue
        part = split_part(file.path)
        if part is None:
            singles.append(GgufChoice(repo_id, revision, (file,)))
        else:
            stem = _SPLIT.sub("", file.path)
            sets.setdefault((stem, part[1]), []).append((part[0], file))
    for (_stem, total), parts in sets.items():
        if len(parts) == total:  # an incomplete set on the Hub cannot be loaded: leave it out
            ordered = tuple(file for _, file in sorted(parts, key=lambda item: item[0]))
            singles.append(GgufChoice(repo_id, revision, ordered))
    return sorted(singles, key=lambda choice: choice.name)


class HubClient:
    """Metadata and URLs for one endpoint and token (``HF_ENDPOINT``/``HF_TOKEN`` by default)."""

    def __init__(self, endpoint: str | None = None, token: str | None = None) -> None:
        self.endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
        self._token = token or os.environ.get("HF_TOKEN") or None
        # False, not None: only the token the user gave us, never some other saved login.
        self._api = HfApi(endpoint=self.endpoint, token=self._token or False)

    @property
    def has_token(self) -> bool:
        return self._token is not None

    def gguf_choices(self, repo_id: str) -> list[GgufChoice]:
        """The GGUF models a repo offers, with sizes and sha256 from the Hub.

        Raises:
            InvalidRequest: not a repo id.
            HubNotFound, HubAuthRequired, HubOffline, HubError: see ``_translated``.
        """
        repo_id = check_repo_id(repo_id)
        with self._translated(repo_id):
            info = self._api.model_info(repo_id, files_metadata=True, timeout=_METADATA_TIMEOUT)
        files = [
            HubFile(
                sibling.rfilename,
                int((sibling.lfs.size if sibling.lfs else sibling.size) or 0),
                sibling.lfs.sha256 if sibling.lfs else None,
            )
            for sibling in info.siblings or []
        ]
        return group_gguf(repo_id, info.sha or "main", files)

    def choice(self, repo_id: str, filename: str) -> GgufChoice:
        """The choice containing ``filename`` (any part of a split set selects the set).

        Raises:
            HubNotFound: the repo has no such GGUF file.
        """
        for candidate in self.gguf_choices(repo_id):
            if any(file.path == filename for file in candidate.files):
                return candidate
        raise HubNotFound(
            f"{repo_id} has no GGUF file called {filename!r}. List its files with "
            f"'localwork-hero models list {repo_id}' or pick one in Settings → Models."
        )

    def file_url(self, choice: GgufChoice, file: HubFile) -> str:
        return hf_hub_url(
            choice.repo_id, file.path, revision=choice.revision, endpoint=self.endpoint
        )

    def headers(self) -> dict[str, str]:
        headers = build_hf_headers(token=self._token or False, library_name="localwork-hero")
        headers["Accept-Encoding"] = "identity"  # byte offsets must be offsets in the file
        return headers

    @contextlib.contextmanager
    def _translated(self, repo_id: str) -> Iterator[None]:
        """Turn huggingface_hub's exceptions into ours, by type, never by message text."""
        try:
            yield
        except GatedRepoError:
            raise HubAuthRequired(f"{repo_id} is gated. {TOKEN_HELP}") from None
        except RepositoryNotFoundError as error:
            status = error.response.status_code if error.response is not None else None
            if status == 401 and not self.has_token:
                raise HubAuthRequired(
                    f"{repo_id} was not found, or it is private. {TOKEN_HELP}"
                ) from None
            raise HubNotFound(
                f"There is no model repo {repo_id} on {self.endpoint} (or your token cannot "
                "see it). Check the spelling."
            ) from None
        except (RevisionNotFoundError, EntryNotFoundError):
            raise HubNotFound(f"{repo_id} does not have the requested file.") from None
        except HFValidationError as error:
            raise InvalidRequest(f"{repo_id!r} is not a valid repo id: {error}") from None
        except OfflineModeIsEnabled:
            raise HubOffline(
                "Offline mode is on (HF_HUB_OFFLINE), so the Hub cannot be reached. Installed "
                "models still work."
            ) from None
        except (httpx2.TransportError, OSError) as error:
            if isinstance(error, HfHubHTTPError):
                status = error.response.status_code if error.response is not None else "?"
                raise HubError(
                    f"The Hub answered with an error ({status}) for {repo_id}. Try again later."
                ) from None
            raise HubOffline(
                f"Cannot reach {self.endpoint} ({type(error).__name__}). Check the internet "
                "connection; installed models still work."
            ) from None
