"""Splitting a model's streamed reply into its reasoning and its answer, at ``<think>`` tags.

Reasoning models write their thinking between ``<think>`` and ``</think>`` before the answer.
The splitter gets the reply as it streams, one delta at a time, and says which part of each
delta is reasoning and which is answer text. A tag may be cut across deltas ("<th", "ink>"),
so a delta's tail that could be the start of a tag is held back until the next one decides.

Some chat templates end the prompt with ``<think>`` themselves, so the reply starts inside
the reasoning and only ever has ``</think>``. An engine that knows it (from its template) says
``starts_in_reasoning=True``. One that cannot know (a remote server) streams the start as
text; if a ``</think>`` then comes before any ``<think>``, the splitter files what it gave as
text under reasoning after all, with a "refiled" piece, so that the caller can move it.

Engine-neutral: the remote engine uses it, and the local engine can.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"

# "text" and "reasoning" are new text for that part. "refiled": every "text" piece given so
# far was reasoning (the prompt had opened the block); ``text`` is that text, to move over.
PieceKind = Literal["text", "reasoning", "refiled"]


@dataclass(frozen=True)
class Piece:
    kind: PieceKind
    text: str


class ReasoningSplitter:
    """Feed it each delta of a reply, then call ``finish``; ``text`` and ``reasoning`` are the
    two parts so far (equal to the pieces given, with "refiled" text moved over)."""

    def __init__(self, *, starts_in_reasoning: bool = False) -> None:
        self._in_reasoning = starts_in_reasoning
        # A lone close tag means "the prompt opened the block" only before any other tag.
        self._saw_a_tag = starts_in_reasoning
        self._held_back = ""  # a delta's tail that may be the start of a tag
        # The newline models put after a tag is not content (the reply's own start is kept).
        self._trim_leading_space = starts_in_reasoning
        self._text: list[str] = []
        self._reasoning: list[str] = []

    @property
    def text(self) -> str:
        return "".join(self._text)

    @property
    def reasoning(self) -> str:
        return "".join(self._reasoning)

    @property
    def in_reasoning(self) -> bool:
        return self._in_reasoning

    def feed(self, delta: str) -> list[Piece]:
        pieces: list[Piece] = []
        rest = self._held_back + delta
        self._held_back = ""
        while rest:
            tag, at = self._next_tag(rest)
            if tag is None:
                keep = _tag_start_at_end(rest, self._watched_tags())
                self._emit(rest[: len(rest) - keep], pieces)
                self._held_back = rest[len(rest) - keep :]
                break
            if tag == CLOSE_TAG and not self._in_reasoning:
                self._refile_text_as_reasoning(pieces)
            self._emit(rest[:at], pieces)
            self._cross(tag)
            rest = rest[at + len(tag) :]
        return pieces

    def finish(self) -> list[Piece]:
        """The held-back tail, now known not to be a tag."""
        pieces: list[Piece] = []
        self._emit(self._held_back, pieces)
        self._held_back = ""
        return pieces

    def _watched_tags(self) -> tuple[str, ...]:
        if self._in_reasoning:
            return (CLOSE_TAG,)
        return (OPEN_TAG,) if self._saw_a_tag else (OPEN_TAG, CLOSE_TAG)

    def _next_tag(self, text: str) -> tuple[str | None, int]:
        found = [(text.find(tag), tag) for tag in self._watched_tags()]
        present = [(at, tag) for at, tag in found if at >= 0]
        if not present:
            return None, -1
        at, tag = min(present)
        return tag, at

    def _refile_text_as_reasoning(self, pieces: list[Piece]) -> None:
        """A close tag before any open one: the prompt had opened the block, so the text given
        so far (all of it from earlier deltas: a delta's text is given only at its end or at
        its first tag) was reasoning."""
        moved = self.text
        self._text.clear()
        self._reasoning.append(moved)
        self._in_reasoning = True
        if moved:
            pieces.append(Piece("refiled", moved))

    def _cross(self, tag: str) -> None:
        self._in_reasoning = tag == OPEN_TAG
        self._saw_a_tag = True
        self._trim_leading_space = True

    def _emit(self, text: str, pieces: list[Piece]) -> None:
        if self._trim_leading_space:
            text = text.lstrip()
            if not text:
                return
            self._trim_leading_space = False
        if not text:
            return
        kind: PieceKind = "reasoning" if self._in_reasoning else "text"
        (self._reasoning if self._in_reasoning else self._text).append(text)
        if pieces and pieces[-1].kind == kind:  # one piece per part per delta
            pieces[-1] = Piece(kind, pieces[-1].text + text)
        else:
            pieces.append(Piece(kind, text))


def _tag_start_at_end(text: str, tags: tuple[str, ...]) -> int:
    """How many characters at the end of ``text`` could be the start of one of ``tags``."""
    longest = 0
    for tag in tags:
        for size in range(min(len(tag) - 1, len(text)), longest, -1):
            if text.endswith(tag[:size]):
                longest = size
                break
    return longest
