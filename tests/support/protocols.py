"""Holding a class to a ``typing.Protocol`` at run time, method by method."""

from __future__ import annotations

import inspect


def mismatched_methods(cls: type, protocol: type) -> list[str]:
    """The protocol's public methods that ``cls`` lacks or declares otherwise (parameters,
    defaults, annotations, result). ``isinstance`` with a runtime-checkable protocol only
    checks that the names exist."""
    return [
        name
        for name in protocol_methods(protocol)
        if not callable(getattr(cls, name, None))
        or inspect.signature(getattr(cls, name)) != inspect.signature(getattr(protocol, name))
    ]


def protocol_methods(protocol: type) -> list[str]:
    return sorted(
        name
        for name, value in vars(protocol).items()
        if callable(value) and not name.startswith("_")
    )
