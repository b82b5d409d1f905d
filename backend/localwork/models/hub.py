"""Talking to the Hugging Face Hub: repo metadata, file URLs, auth headers and errors.

huggingface_hub does the talking (it honours ``HF_ENDPOINT``, ``HF_TOKEN`` and offline mode);
its exceptions are translated here, by type, into errors that tell the user what to do. The
bytes themselves are fetched by ``transfer.py``, because huggingface_hub neither resumes nor
verifies a download. Importing this module imports huggingface_hub (a quarter of a second),
so the app imports it only when the Hub is first needed.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

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
from localwork.models.hubfiles import (
    TOKEN_HELP,
    GgufChoice,
    HubFile,
    check_repo_id,
    group_gguf,
    hub_endpoint,
)

log = logging.getLogger(__name__)
_METADATA_TIMEOUT = 20.0


class HubClient:
    """Metadata and URLs for one endpoint and token (``HF_ENDPOINT``/``HF_TOKEN`` by default)."""

    def __init__(self, endpoint: str | None = None, token: str | None = None) -> None:
        self.endpoint = (endpoint or hub_endpoint()).rstrip("/")
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
            log.info("cannot reach %s: %r", self.endpoint, error)  # the cause, for the log
            raise HubOffline(
                f"Cannot reach {self.endpoint}: check the internet connection. Installed "
                "models still work."
            ) from None
