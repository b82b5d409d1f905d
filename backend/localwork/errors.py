"""Errors with stable codes, shown to the user as ``{code, message}``.

The tree::

    LocalWorkError                      internal
    ├── InvalidRequest (ValueError)     invalid_request
    ├── NotFound (LookupError)          not_found
    ├── SettingsError (ValueError)      settings_invalid
    │   └── McpConfigInvalid            mcp_config_invalid
    ├── ModelError                      model_error
    │   ├── ModelNotFound               model_not_found   (FileNotFoundError)
    │   └── ModelLoadFailed             model_load_failed
    │       └── UnreadableGguf            model_load_failed
    ├── EngineError                     engine_error
    │   ├── EngineCrashed               engine_crashed
    │   ├── EngineNotReady              engine_not_ready
    │   ├── GenerationFailed            generation_failed
    │   └── RemoteError                 remote_error      (an OpenAI-compatible server)
    │       ├── RemoteUnreachable         remote_unreachable     (ConnectionError)
    │       ├── RemoteTimeout             remote_timeout         (TimeoutError)
    │       ├── RemoteAuthFailed          remote_auth_failed     (PermissionError)
    │       ├── RemoteModelNotFound       remote_model_not_found
    │       ├── RemoteRateLimited         remote_rate_limited
    │       ├── RemoteServerError         remote_server_error
    │       ├── RemoteRedirected          remote_redirected
    │       ├── RemoteBadResponse         remote_bad_response
    │       └── RemoteStreamDropped       remote_stream_dropped
    ├── ContextOverflow                 context_overflow
    │   └── ToolListTooLarge              tool_list_too_large
    ├── SandboxDenied (PermissionError) sandbox_denied
    ├── PathNotFound                    path_not_found    (FileNotFoundError)
    ├── ToolError                       tool_failed
    ├── McpError                        mcp_error
    │   ├── McpCommandNotFound          mcp_command_not_found (FileNotFoundError)
    │   ├── McpServerStartFailed        mcp_start_failed
    │   ├── McpServerCrashed            mcp_server_crashed
    │   ├── McpCallTimedOut             mcp_call_timed_out (TimeoutError)
    │   └── McpProtocolError            mcp_protocol_error
    ├── HubError                        hub_error
    │   ├── HubOffline                  hub_offline       (ConnectionError)
    │   ├── HubAuthRequired             hub_auth_required (PermissionError)
    │   └── HubNotFound                 hub_not_found     (FileNotFoundError)
    └── DownloadError                   download_failed
        ├── DownloadCorrupt             download_corrupt
        ├── DiskFull                    disk_full         (OSError)
        └── DownloadCancelled           download_cancelled

Codes are part of the bridge's public contract: the frontend and scripts switch on them,
so a code never changes meaning; the README's "Error codes" table lists each (a test checks).
Messages say what happened and what to do next. Every coded error is defined here, so that
one crossing a process boundary as ``{code, message}`` comes back as itself (``from_dict``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

# Which wait ran out: opening the connection, or the answer to a request sent.
TimeoutPhase = Literal["connect", "read"]


class LocalWorkError(Exception):
    """Base of every error the app reports to the user."""

    code = "internal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> LocalWorkError:
        return cls(str(payload.get("message", "Unknown error.")))


class InvalidRequest(LocalWorkError, ValueError):
    code = "invalid_request"


class NotFound(LocalWorkError, LookupError):
    code = "not_found"


class SettingsError(LocalWorkError, ValueError):
    """Settings that do not validate; ``fields`` maps dotted field paths to their problem."""

    code = "settings_invalid"

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "fields": self.fields}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> LocalWorkError:
        fields = payload.get("fields")
        return cls(str(payload.get("message", "")), fields if isinstance(fields, dict) else None)


class ModelError(LocalWorkError):
    code = "model_error"


class ModelNotFound(ModelError, FileNotFoundError):
    code = "model_not_found"


class ModelLoadFailed(ModelError):
    code = "model_load_failed"


class UnreadableGguf(ModelLoadFailed):
    """Not a GGUF file, or its header is damaged; ``reason`` says which, for other wording."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class EngineError(LocalWorkError):
    code = "engine_error"


class EngineCrashed(EngineError):
    code = "engine_crashed"


class EngineNotReady(EngineError):
    code = "engine_not_ready"


class GenerationFailed(EngineError):
    code = "generation_failed"


class RemoteError(EngineError):
    """An OpenAI-compatible server failed a request (``engine/remote/``): any other answer.

    ``url`` is the server's base URL, ``status`` the HTTP status when there was an answer.
    Subclasses add what the user needs to act on; ``_fields`` names what crosses a process
    boundary with the message.
    """

    code = "remote_error"
    _fields: tuple[str, ...] = ("url", "status")

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), **{name: getattr(self, name) for name in self._fields}}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> LocalWorkError:
        kept = {name: payload[name] for name in cls._fields if name in payload}
        return cls(str(payload.get("message", "")), **kept)


class RemoteUnreachable(RemoteError, ConnectionError):
    """Nothing answered at the address: refused, no such host, no route, bad certificate."""

    code = "remote_unreachable"


class RemoteTimeout(RemoteError, TimeoutError):
    """The server did not accept the connection (``phase`` "connect") or accepted it and did
    not answer (``phase`` "read") within ``seconds``."""

    code = "remote_timeout"
    _fields = (*RemoteError._fields, "phase", "seconds")

    def __init__(
        self,
        message: str,
        *,
        phase: TimeoutPhase = "read",
        seconds: float | None = None,
        **where: Any,
    ) -> None:
        super().__init__(message, **where)  # the base's url and status
        self.phase = phase
        self.seconds = seconds


class RemoteAuthFailed(RemoteError, PermissionError):
    """The server refused the API key, or needs one (HTTP 401 or 403)."""

    code = "remote_auth_failed"


class RemoteModelNotFound(RemoteError):
    """The server has no such model, or the base URL is not its API (HTTP 404)."""

    code = "remote_model_not_found"


class RemoteRateLimited(RemoteError):
    """HTTP 429; ``retry_after`` is the server's ``Retry-After`` in seconds, when it sent one."""

    code = "remote_rate_limited"
    _fields = (*RemoteError._fields, "retry_after")

    def __init__(self, message: str, *, retry_after: float | None = None, **where: Any) -> None:
        super().__init__(message, **where)  # the base's url and status
        self.retry_after = retry_after


class RemoteServerError(RemoteError):
    """The server failed (HTTP 5xx, or an error event in the stream); the message has its
    own words."""

    code = "remote_server_error"


class RemoteRedirected(RemoteError):
    """The server answered with a redirect to ``location``, which is not followed: the key is
    only ever sent to the address the user typed."""

    code = "remote_redirected"
    _fields = (*RemoteError._fields, "location")

    def __init__(self, message: str, *, location: str | None = None, **where: Any) -> None:
        super().__init__(message, **where)  # the base's url and status
        self.location = location


class RemoteBadResponse(RemoteError):
    """The answer is not the OpenAI shape (not JSON, not a chat stream, not HTTP at all)."""

    code = "remote_bad_response"


class RemoteStreamDropped(RemoteError):
    """The reply stopped before it was finished (the connection dropped, or the server went
    silent); ``partial_text`` and ``partial_reasoning`` keep what it wrote so far."""

    code = "remote_stream_dropped"
    _fields = (*RemoteError._fields, "partial_text", "partial_reasoning")

    def __init__(
        self, message: str, *, partial_text: str = "", partial_reasoning: str = "", **where: Any
    ) -> None:
        super().__init__(message, **where)  # the base's url and status
        self.partial_text = partial_text
        self.partial_reasoning = partial_reasoning


class ContextOverflow(LocalWorkError):
    """A request cannot fit the model's context window, even after trimming history.

    ``tokens`` (what the prompt takes), ``n_ctx`` and ``room`` (kept for the reply) are known
    when the budget refused it; ``whole_conversation`` when it is the history, not the message.
    """

    code = "context_overflow"

    def __init__(
        self,
        message: str,
        *,
        tokens: int | None = None,
        n_ctx: int | None = None,
        room: int | None = None,
        whole_conversation: bool = False,
    ) -> None:
        super().__init__(message)
        self.tokens, self.n_ctx, self.room = tokens, n_ctx, room
        self.whole_conversation = whole_conversation


class ToolListTooLarge(ContextOverflow):
    """The tools on offer take so much of the context that the conversation's newest message
    and the reply no longer fit: the reply is not started. ``tool_tokens`` is the tool list's
    cost, ``tokens`` the whole prompt's (tools, system prompt, newest message)."""

    code = "tool_list_too_large"

    def __init__(
        self, message: str, *, tool_tokens: int = 0, tokens: int = 0, n_ctx: int = 0, room: int = 0
    ) -> None:
        super().__init__(message, tokens=tokens, n_ctx=n_ctx, room=room)
        self.tool_tokens = tool_tokens

    def to_dict(self) -> dict[str, Any]:
        numbers = {"tool_tokens": self.tool_tokens, "tokens": self.tokens, "n_ctx": self.n_ctx}
        return {**super().to_dict(), **numbers, "room": self.room}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> LocalWorkError:
        def number(key: str) -> int:
            value = payload.get(key)
            return value if isinstance(value, int) else 0

        return cls(
            str(payload.get("message", "")),
            tool_tokens=number("tool_tokens"),
            tokens=number("tokens"),
            n_ctx=number("n_ctx"),
            room=number("room"),
        )


class SandboxDenied(LocalWorkError, PermissionError):
    """The path is outside the grants, or the operation is not allowed on it."""

    code = "sandbox_denied"


class PathNotFound(LocalWorkError, FileNotFoundError):
    code = "path_not_found"


class ToolError(LocalWorkError):
    """The tool could not do what was asked; the message tells the model what to do instead."""

    code = "tool_failed"

    def __init__(self, message: str, shown: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.shown = shown  # what the program that ran the call returned, for the user's eyes


class McpConfigInvalid(SettingsError):
    """An MCP servers configuration (``mcpServers`` JSON) that does not validate; ``fields``
    maps each dotted path (``mcpServers.git.args``) to its problem."""

    code = "mcp_config_invalid"


class McpError(LocalWorkError):
    """An MCP server could not serve a request. ``server`` names it; ``stderr_tail`` holds the
    last lines it wrote to stderr, when it is a local process, for the user to read."""

    code = "mcp_error"

    def __init__(
        self, message: str, *, server: str | None = None, stderr_tail: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.server = server
        self.stderr_tail = tuple(stderr_tail)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "server": self.server, "stderr_tail": list(self.stderr_tail)}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> LocalWorkError:
        server = payload.get("server")
        tail = payload.get("stderr_tail")
        return cls(
            str(payload.get("message", "")),
            server=server if isinstance(server, str) else None,
            stderr_tail=[str(line) for line in tail] if isinstance(tail, list) else (),
        )


class McpCommandNotFound(McpError, FileNotFoundError):
    """A stdio server's command is neither on the app's PATH nor on the login shell's."""

    code = "mcp_command_not_found"


class McpServerStartFailed(McpError):
    """The server's process or URL did not come up as an MCP server within its timeout."""

    code = "mcp_start_failed"


class McpServerCrashed(McpError):
    """The server stopped while it was in use; it restarts (with backoff) on its next use."""

    code = "mcp_server_crashed"


class McpCallTimedOut(McpError, TimeoutError):
    """A tool call got no answer within the server's timeout; the call was cancelled."""

    code = "mcp_call_timed_out"


class McpProtocolError(McpError):
    """The server answered with something that is not MCP (garbage on stdout, a malformed
    result)."""

    code = "mcp_protocol_error"


class EngineBusy(EngineError):
    """Too many requests already wait for the engine (the local API's queue is full)."""

    code = "engine_busy"


class ModelLoading(EngineNotReady):
    """The model a request needs is loading, and the caller asked not to wait."""

    code = "model_loading"


class HubError(LocalWorkError):
    """The Hugging Face Hub (or the mirror in ``HF_ENDPOINT``) refused or failed a request."""

    code = "hub_error"


class HubOffline(HubError, ConnectionError):
    code = "hub_offline"


class HubAuthRequired(HubError, PermissionError):
    """A gated or private repo: the user needs a token with access."""

    code = "hub_auth_required"


class HubNotFound(HubError, FileNotFoundError):
    code = "hub_not_found"


class DownloadError(LocalWorkError):
    code = "download_failed"


class DownloadCorrupt(DownloadError):
    """The bytes did not match the size or sha256 the Hub announced; the file was deleted."""

    code = "download_corrupt"


class DiskFull(DownloadError, OSError):
    code = "disk_full"


class DownloadCancelled(DownloadError):
    code = "download_cancelled"


_BY_CODE: dict[str, type[LocalWorkError]] = {}


def _index(cls: type[LocalWorkError]) -> None:
    # A subclass that shares its parent's code (UnreadableGguf) is rebuilt as the parent.
    _BY_CODE.setdefault(cls.code, cls)
    for sub in cls.__subclasses__():
        _index(sub)


_index(LocalWorkError)


def error_classes() -> dict[str, type[LocalWorkError]]:
    """Each code and the class an error with it is rebuilt as."""
    return dict(_BY_CODE)


def from_dict(payload: dict[str, Any]) -> LocalWorkError:
    """Rebuild an error that crossed a process boundary as ``{code, message, ...}``."""
    cls = _BY_CODE.get(str(payload.get("code", "")), LocalWorkError)
    return cls.from_payload(payload)
