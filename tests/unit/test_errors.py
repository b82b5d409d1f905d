"""One error tree: every code comes back as itself across a process boundary, and the README
says what each means."""

import re
from pathlib import Path

import pytest

from localwork import errors
from localwork.errors import LocalWorkError, SettingsError, error_classes, from_dict

README = Path(__file__).resolve().parents[2] / "README.md"


def every_class(cls: type[LocalWorkError] = LocalWorkError) -> list[type[LocalWorkError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found += every_class(sub)
    return found


def an_instance(cls: type[LocalWorkError]) -> LocalWorkError:
    if cls is errors.UnreadableGguf:
        return cls("Not a GGUF file.", reason="magic")
    return cls("What happened, and what to do.")


@pytest.mark.parametrize("cls", every_class(), ids=lambda cls: cls.__name__)
def test_every_error_keeps_its_code_and_message_through_a_round_trip(cls):
    original = an_instance(cls)
    rebuilt = from_dict(original.to_dict())
    assert rebuilt.code == original.code and rebuilt.message == original.message
    assert isinstance(rebuilt, error_classes()[cls.code])
    assert isinstance(original, type(rebuilt))  # a shared code comes back as the parent


def test_every_coded_error_is_defined_in_the_errors_module():
    # Defined elsewhere, an error would be unknown to from_dict until its module was imported.
    import localwork.app  # noqa: F401  (imports every module that raises one)

    strays = [c for c in every_class() if c.__module__ != errors.__name__]
    assert not strays, [f"{c.__module__}.{c.__name__}" for c in strays]


def test_settings_errors_keep_their_fields():
    rebuilt = from_dict(SettingsError("Bad settings.", {"a.b": "too big"}).to_dict())
    assert isinstance(rebuilt, SettingsError) and rebuilt.fields == {"a.b": "too big"}


def test_an_unknown_code_is_an_internal_error_with_its_message():
    rebuilt = from_dict({"code": "from_the_future", "message": "Something new."})
    assert type(rebuilt) is LocalWorkError and rebuilt.message == "Something new."


def test_the_readme_table_says_what_every_code_means():
    text = README.read_text()
    table = text[text.index("### Error codes") :].split("\n\n")[1]
    documented = {
        code
        for cell in re.findall(r"^\| (`.*?) \|", table, re.M)
        for code in re.findall(r"`(\w+)`", cell)
    }
    assert set(error_classes()) <= documented, sorted(set(error_classes()) - documented)


@pytest.mark.parametrize(
    "original",
    [
        errors.RemoteTimeout("Slow.", url="http://h/v1", phase="connect", seconds=2.5),
        errors.RemoteRateLimited("Wait.", url="http://h/v1", status=429, retry_after=7.0),
        errors.RemoteRedirected("Moved.", status=301, location="https://h/v1/chat/completions"),
        errors.RemoteStreamDropped("Dropped.", partial_text="Hel", partial_reasoning="hmm"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_remote_errors_keep_what_the_user_acts_on(original):
    rebuilt = from_dict(original.to_dict())
    assert type(rebuilt) is type(original) and rebuilt.to_dict() == original.to_dict()
