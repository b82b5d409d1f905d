"""The settings pane's form is drawn from the settings models (settings_form(), served with
settings_pane): every field has a title, and the page gets the bounds validation enforces."""

import annotated_types
import pytest
from pydantic import ValidationError

from localwork.settings import ContextSettings, GenerationSettings, Profile, field_errors
from localwork.transports.bridge import Bridge

SECTIONS = {"context": ContextSettings, "generation": GenerationSettings}
KINDS_THE_PAGE_DRAWS = {"ctx", "int", "optional-int", "float", "bool", "choice", "long-text"}
DECLARED = {  # a pydantic bound → its JSON-schema keyword
    annotated_types.Ge: ("minimum", "ge"),
    annotated_types.Gt: ("exclusiveMinimum", "gt"),
    annotated_types.Le: ("maximum", "le"),
    annotated_types.Lt: ("exclusiveMaximum", "lt"),
}
# Values that are valid only beside another: a micro-batch of 8192 needs a batch that large.
COMPANIONS = {"context.n_ubatch": {"n_batch": 8192}}


@pytest.fixture
def fields(app):
    reply = Bridge(app).dispatch("settings_pane", {})
    assert reply["ok"], reply
    return [field for group in reply["data"]["form"] for field in group["fields"]]


def model_field(path):
    section, name = path.split(".")
    return SECTIONS[section].model_fields[name]


def test_every_field_of_the_models_in_the_pane_has_a_title_and_is_shown(fields):
    for section, model in SECTIONS.items():
        for name, info in model.model_fields.items():
            assert info.title, f"{section}.{name} has no title: the pane would have no label"
    assert {field["path"] for field in fields} == {
        f"{section}.{name}" for section, model in SECTIONS.items() for name in model.model_fields
    }
    for field in fields:
        info = model_field(field["path"])
        assert field["title"] == info.title
        assert field.get("help") == info.description
        assert field["kind"] in KINDS_THE_PAGE_DRAWS, field


def test_the_served_bounds_are_the_declared_ones(fields):
    for field in fields:
        declared = {
            keyword: getattr(rule, attribute)
            for rule in model_field(field["path"]).metadata
            for kind, (keyword, attribute) in DECLARED.items()
            if isinstance(rule, kind)
        }
        assert {keyword: field.get(keyword) for keyword in declared} == declared, field["path"]


def problem(path, value):
    """What validation says about ``path`` set to ``value`` (None: nothing)."""
    section, name = path.split(".")
    profile = {section: {name: value, **COMPANIONS.get(path, {})}}
    try:
        Profile.model_validate(profile)
    except ValidationError as error:
        return field_errors(error).get(path)
    return None


def test_validation_refuses_exactly_past_each_served_bound(fields):
    bounded = 0
    for field in fields:
        path = field["path"]
        nudge = 1e-6 if field["kind"] == "float" else 1
        if "minimum" in field:
            assert problem(path, field["minimum"]) is None, path
            assert problem(path, field["minimum"] - nudge) is not None, path
        if "exclusiveMinimum" in field:
            assert problem(path, field["exclusiveMinimum"]) is not None, path
            assert problem(path, field["exclusiveMinimum"] + nudge) is None, path
        if "maximum" in field:
            assert problem(path, field["maximum"]) is None, path
            assert problem(path, field["maximum"] + nudge) is not None, path
        if "exclusiveMaximum" in field:
            assert problem(path, field["exclusiveMaximum"]) is not None, path
            assert problem(path, field["exclusiveMaximum"] - nudge) is None, path
        bounded += any(k in field for k in ("minimum", "exclusiveMinimum", "maximum"))
    assert bounded  # the context length's bounds, from its own rule, among them
