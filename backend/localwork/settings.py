"""User settings: pydantic models persisted atomically as JSON under the config dir.

A file that cannot be read or validated is never lost: it is moved aside as a backup, the
app starts with defaults, and ``SettingsStore.notice`` says what happened.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from localwork.errors import SettingsError
from localwork.infra.atomic import atomic_write_bytes
from localwork.infra.broken import set_aside
from localwork.infra.paths import PRIVATE_FILE
from localwork.models.prompt_formats import PromptFormatName

log = logging.getLogger(__name__)

DEFAULT_SYSTEM_PROMPT = (
    "You are LocalWork Hero, a helpful assistant that runs privately on the user's own "
    "computer. Answer clearly and concisely."
)


class FieldProblem(ValueError):
    """A rule spanning several fields, reported on the field the user should change."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# The settings pane is drawn from these models' schema (settings_form()): each field's title is
# its label, its description the help below it, its bounds the input's; the rest is said here.
PANE_GROUPS = {"context": "Context", "sampling": "Sampling", "replies": "Replies"}


def _pane(group: str, **shown: Any) -> dict[str, Any]:
    """How the pane shows a field: its group (PANE_GROUPS), and where needed its ``kind``
    (else it follows from the type), ``step``, ``placeholder``, ``rows``, ``choices`` (labels
    by value), ``gpu_only`` (shown only where layers can go to a GPU) or ``cores`` (its
    placeholder and maximum are the machine's cores)."""
    return {"pane": {"group": group, **shown}}


N_CTX_MIN, N_CTX_MAX = 128, 1_048_576


class ContextSettings(_Strict):
    """How the llama.cpp context is created. Nothing here is ever left to library defaults."""

    n_ctx: int | Literal["auto"] = Field(
        "auto",
        title="Context length",
        description="Auto: the model's training length, limited by free memory and 8192.",
        # Checked in _consistent, in its own words; the schema says them for the pane.
        json_schema_extra={
            "minimum": N_CTX_MIN,
            "maximum": N_CTX_MAX,
            **_pane("context", kind="ctx", step=256),
        },
    )
    # Prompt tokens per decode call.
    n_batch: int = Field(
        512,
        ge=8,
        le=8192,
        title="Batch size",
        description="Prompt tokens processed per step.",
        json_schema_extra=_pane("context"),
    )
    # The physical micro-batch; None: the batch, at most 512.
    n_ubatch: int | None = Field(
        None,
        ge=8,
        le=8192,
        title="Micro-batch",
        json_schema_extra=_pane("context", placeholder="same as batch"),
    )
    # None: one thread per physical core, for generation and for the prompt.
    n_threads: int | None = Field(
        None, ge=1, title="CPU threads (writing)", json_schema_extra=_pane("context", cores=True)
    )
    n_threads_batch: int | None = Field(
        None,
        ge=1,
        title="CPU threads (reading the prompt)",
        json_schema_extra=_pane("context", cores=True),
    )
    n_gpu_layers: int = Field(
        0,
        ge=-1,
        le=1000,
        title="GPU layers (-1: all)",
        json_schema_extra=_pane("context", gpu_only=True),
    )
    kv_cache_type: Literal["f16", "q8_0", "q4_0"] = Field(
        "f16",
        title="KV cache type",
        json_schema_extra=_pane(
            "context",
            choices={
                "f16": "f16 (best quality)",
                "q8_0": "q8_0 (half the memory)",
                "q4_0": "q4_0 (a quarter)",
            },
        ),
    )
    flash_attn: bool = Field(False, title="Flash attention", json_schema_extra=_pane("context"))
    use_mmap: bool = Field(
        True, title="Memory-map the model file", json_schema_extra=_pane("context")
    )
    use_mlock: bool = Field(
        False, title="Lock the model in RAM", json_schema_extra=_pane("context")
    )

    @model_validator(mode="after")
    def _consistent(self) -> ContextSettings:
        if isinstance(self.n_ctx, int):
            if not N_CTX_MIN <= self.n_ctx <= N_CTX_MAX:
                raise FieldProblem(
                    "n_ctx", f"context length must be between {N_CTX_MIN} and {N_CTX_MAX}"
                )
            if self.n_batch > self.n_ctx:
                raise FieldProblem(
                    "n_batch",
                    f"batch size ({self.n_batch}) cannot be larger than the context ({self.n_ctx})",
                )
        if self.n_ubatch is not None and self.n_ubatch > self.n_batch:
            raise FieldProblem(
                "n_ubatch",
                f"micro-batch ({self.n_ubatch}) cannot be larger than the batch ({self.n_batch})",
            )
        cores = os.cpu_count() or 1
        for name in ("n_threads", "n_threads_batch"):
            value = getattr(self, name)
            if value is not None and value > cores:
                raise FieldProblem(
                    name, f"{value} threads is more than this machine's {cores} cores"
                )
        if self.kv_cache_type != "f16" and not self.flash_attn:
            raise FieldProblem("kv_cache_type", "a quantized KV cache needs flash attention on")
        return self


class GenerationSettings(_Strict):
    temperature: float = Field(
        0.7, ge=0.0, le=2.0, title="Temperature", json_schema_extra=_pane("sampling", step=0.05)
    )
    top_p: float = Field(
        0.95, gt=0.0, le=1.0, title="Top-p", json_schema_extra=_pane("sampling", step=0.01)
    )
    top_k: int = Field(40, ge=0, le=1000, title="Top-k", json_schema_extra=_pane("sampling"))
    min_p: float = Field(
        0.05, ge=0.0, le=1.0, title="Min-p", json_schema_extra=_pane("sampling", step=0.01)
    )
    repeat_penalty: float = Field(
        1.1,
        ge=0.5,
        le=2.0,
        title="Repeat penalty",
        json_schema_extra=_pane("sampling", step=0.05),
    )
    max_tokens: int = Field(
        1024, ge=1, le=32768, title="Longest reply (tokens)", json_schema_extra=_pane("replies")
    )
    # -1 picks a random seed per reply.
    seed: int = Field(-1, ge=-1, title="Seed (-1: random)", json_schema_extra=_pane("sampling"))
    system_prompt: str = Field(
        DEFAULT_SYSTEM_PROMPT,
        max_length=16_000,
        title="System prompt",
        json_schema_extra=_pane("replies", kind="long-text", rows=3),
    )
    # Tool calls the assistant may make for one message.
    max_tool_rounds: int = Field(
        10,
        ge=1,
        le=50,
        title="Tool calls per message (at most)",
        description="When the assistant works on files, it stops after this many tool calls.",
        json_schema_extra=_pane("replies"),
    )


class Profile(_Strict):
    """How a model is run: its context and its generation settings."""

    context: ContextSettings = Field(default_factory=ContextSettings)
    generation: GenerationSettings = Field(default_factory=GenerationSettings)


PresetName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]

# The input a field gets in the pane, from its JSON-schema types, unless its "pane" says one.
_PANE_KINDS = {
    frozenset({"boolean"}): "bool",
    frozenset({"integer"}): "int",
    frozenset({"integer", "null"}): "optional-int",
    frozenset({"number"}): "float",
}
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def _pane_field(path: str, prop: dict[str, Any]) -> dict[str, Any]:
    shown = dict(prop["pane"])
    del shown["group"]
    branches = prop.get("anyOf", [prop])
    choices = next((branch["enum"] for branch in branches if "enum" in branch), None)
    kind = shown.pop("kind", None) or (
        "choice" if choices else _PANE_KINDS.get(frozenset(b.get("type") for b in branches))
    )
    if kind is None:
        raise ValueError(f"{path}: its pane kind does not follow from its type; say it")
    field: dict[str, Any] = {"path": path, "title": prop["title"], "kind": kind}
    if "description" in prop:
        field["help"] = prop["description"]
    for bound in _BOUNDS:  # on the field, or on its number type inside "int | None"
        found = [part[bound] for part in (prop, *branches) if bound in part]
        if found:
            field[bound] = found[0]
    if choices:
        labels = shown.pop("choices", {})
        field["choices"] = [[value, labels.get(value, value)] for value in choices]
    return {**field, **shown}


def settings_form() -> list[dict[str, Any]]:
    """The settings pane's fields, from the profile models' JSON schema: its groups in order,
    each ``{"name", "title", "fields"}``; a field is ``{"path", "title", "kind", "help"?,
    "minimum"?, "maximum"?, "exclusiveMinimum"?, ...}`` plus what its ``_pane`` says."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for section, info in Profile.model_fields.items():
        assert isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel)
        for name, prop in info.annotation.model_json_schema()["properties"].items():
            field = _pane_field(f"{section}.{name}", prop)
            groups.setdefault(prop["pane"]["group"], []).append(field)
    return [
        {"name": name, "title": PANE_GROUPS[name], "fields": fields}
        for name, fields in groups.items()
    ]


class FolderGrant(_Strict):
    """A folder the assistant's tools may use: read-only, or read and change."""

    path: str = Field(min_length=1, max_length=4096)
    mode: Literal["ro", "rw"] = "ro"


# A server's name starts a model's id ("gpu-box/Qwen3-8B"), so it has no "/" and is none of
# the installed models' own prefixes.
SERVER_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"
RESERVED_SERVER_NAMES = frozenset({"local", "bundled"})


class RemoteModelSetting(_Strict):
    """One model of a server, as the user set it up in the Models pane."""

    id: str = Field(min_length=1, max_length=300, description="The server's id of the model")
    context_length: int = Field(8192, ge=256, le=10_000_000)
    # "native": the server takes tools and returns calls; "prompt": tools are described in
    # the prompt and the calls read from the text (a server or model without tool calling).
    tools: Literal["native", "prompt"] = "native"
    # Off: ask the server not to think first (``chat_template_kwargs.enable_thinking``, which
    # vLLM and llama-server read for Qwen3-style templates). Reasoning that comes is shown.
    reasoning: bool = True


class RemoteServerSetting(_Strict):
    """An OpenAI-compatible server the user added (llama-server, vLLM, Ollama, …)."""

    name: str = Field(pattern=SERVER_NAME_PATTERN)
    base_url: str = Field(min_length=1, max_length=2000)
    # Kept only in this local file, like the Hub token, and never sent to the page.
    api_key: str | None = Field(None, max_length=4000)
    models: list[RemoteModelSetting] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, name: str) -> str:
        if name.lower() in RESERVED_SERVER_NAMES:
            raise ValueError(f"{name!r} is a name the app's own models use; choose another")
        return name


API_DEFAULT_PORT = 7373  # no peer uses it: Jan 1337, LM Studio 1234, Ollama 11434


def new_api_key() -> str:
    return "lwh-" + secrets.token_urlsafe(32)


class LocalApiSettings(_Strict):
    """The local OpenAI- and Anthropic-compatible API (``api/``): off until the user turns it
    on; loopback only unless ``lan``, which always needs the key."""

    enabled: bool = False
    port: int = Field(API_DEFAULT_PORT, ge=0, le=65535)  # 0: a free one, picked at each start
    # Every request must carry it (``Authorization: Bearer`` or ``x-api-key``); "" until the
    # API is first used, when one is made (``new_api_key``) and saved.
    key: str = Field("", pattern=r"^(|[!-~]{16,200})$")
    lan: bool = False  # serve on every interface (0.0.0.0), not only 127.0.0.1
    # Web pages allowed to call the API from a browser (exact origins; never "*").
    cors_origins: list[Annotated[str, StringConstraints(pattern=r"^https?://[^/*\s]+$")]] = Field(
        default_factory=list, max_length=50
    )


class AppSettings(_Strict):
    version: int = 1
    selected_model: str | None = Field(None, description="Model id; None is the bundled model")
    # App-wide defaults, used by every model without a profile of its own.
    context: ContextSettings = Field(default_factory=ContextSettings)
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    overflow: Literal["trim_oldest", "stop"] = "trim_oldest"
    model_profiles: dict[str, Profile] = Field(default_factory=dict)
    # The prompt format chosen per model id; a model not listed gets its GGUF's default.
    prompt_formats: dict[str, PromptFormatName] = Field(default_factory=dict)
    presets: dict[PresetName, Profile] = Field(default_factory=dict)
    grants: list[FolderGrant] = Field(default_factory=list)
    # A Hugging Face access token for gated/private repos; kept only in this local file and
    # never sent to the page. HF_TOKEN in the environment is used when this is empty.
    hf_token: str | None = Field(None, max_length=500)
    # The first-launch welcome was read or skipped: it is not shown again.
    welcome_seen: bool = False
    servers: list[RemoteServerSetting] = Field(default_factory=list)
    # The installed model used last: what "Continue on a local model" goes back to.
    last_local_model: str | None = None
    local_api: LocalApiSettings = Field(default_factory=LocalApiSettings)

    @field_validator("servers")
    @classmethod
    def _unique_server_names(cls, servers: list[RemoteServerSetting]) -> list[RemoteServerSetting]:
        names = [server.name.lower() for server in servers]
        if len(set(names)) != len(names):
            raise ValueError("two servers have the same name")
        return servers

    def server(self, name: str) -> RemoteServerSetting | None:
        return next((s for s in self.servers if s.name.lower() == name.lower()), None)

    def profile_for(self, model_id: str) -> Profile:
        return self.model_profiles.get(model_id) or Profile(
            context=self.context, generation=self.generation
        )


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


# pydantic's wording ("Input should be less than or equal to 2") in the pane's own words.
_PLAIN_WORDS: dict[str, Callable[[dict[str, Any]], str]] = {
    "less_than_equal": lambda ctx: f"must be {_number(ctx['le'])} or less",
    "less_than": lambda ctx: f"must be less than {_number(ctx['lt'])}",
    "greater_than_equal": lambda ctx: f"must be {_number(ctx['ge'])} or more",
    "greater_than": lambda ctx: f"must be more than {_number(ctx['gt'])}",
    "float_type": lambda ctx: "must be a number",
    "float_parsing": lambda ctx: "must be a number",
    "finite_number": lambda ctx: "must be a number",
    "int_type": lambda ctx: "must be a whole number",
    "int_parsing": lambda ctx: "must be a whole number",
    "int_from_float": lambda ctx: "must be a whole number",
    "bool_type": lambda ctx: "must be on or off",
    "string_too_long": lambda ctx: f"must be at most {ctx['max_length']} characters",
    "string_too_short": lambda ctx: "cannot be empty",
    "missing": lambda ctx: "is required",
    "extra_forbidden": lambda ctx: "is not a setting this version knows",
    "literal_error": lambda ctx: f"must be {ctx['expected']}",
}


def field_errors(error: ValidationError) -> dict[str, str]:
    """Validation errors keyed by dotted field path, ready to show next to each field."""
    problems: dict[str, str] = {}
    for item in error.errors():
        where = [str(part) for part in item["loc"]]
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, FieldProblem):
            where.append(cause.field)
            message = str(cause)
        elif item["type"] in _PLAIN_WORDS:
            message = _PLAIN_WORDS[item["type"]](item.get("ctx") or {})
        else:
            message = item["msg"]
        problems.setdefault(".".join(where) or "settings", message)
    return problems


def describe_validation_error(error: ValidationError) -> str:
    return "; ".join(f"{where}: {message}" for where, message in field_errors(error).items())


def settings_error(error: ValidationError) -> SettingsError:
    return SettingsError(describe_validation_error(error), fields=field_errors(error))


class SettingsStore:
    """Loads, validates and atomically saves ``AppSettings``; thread-safe."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self.notice: str | None = None
        self._settings = self._load()

    @property
    def current(self) -> AppSettings:
        return self._settings

    def update(self, patch: dict[str, Any]) -> AppSettings:
        """Apply a partial change; nothing is saved unless the result validates.

        Raises:
            SettingsError: the merged settings are invalid; ``fields`` names each problem.
        """
        with self._lock:
            merged = _merge(self._settings.model_dump(), patch)
            try:
                updated = AppSettings.model_validate(merged)
            except ValidationError as error:
                raise settings_error(error) from None
            self._write(updated)
            self._settings = updated
            return updated

    def replace(self, settings: AppSettings) -> AppSettings:
        """Save an already validated whole settings object."""
        with self._lock:
            self._write(settings)
            self._settings = settings
            return settings

    def _load(self) -> AppSettings:
        if not self._path.exists():
            return AppSettings()
        try:
            return AppSettings.model_validate(json.loads(self._path.read_text("utf-8")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValidationError) as error:
            backup = set_aside(self._path)
            reason = (
                describe_validation_error(error)
                if isinstance(error, ValidationError)
                else str(error)
            )
            self.notice = (
                f"Your settings file could not be read ({reason}). It was kept as "
                f"{backup.name} and LocalWork Hero started with default settings."
            )
            log.warning("settings reset to defaults: %s", reason)
            return AppSettings()

    def _write(self, settings: AppSettings) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps(settings.model_dump(), indent=2).encode("utf-8")
        atomic_write_bytes(self._path, payload, PRIVATE_FILE)  # it may hold the Hub token
