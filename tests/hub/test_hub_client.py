"""Hub metadata through huggingface_hub against the fake Hub: choices, split sets, errors."""

from __future__ import annotations

import socket

import pytest

from localwork.errors import HubAuthRequired, HubNotFound, HubOffline, InvalidRequest
from localwork.models.hub import HubClient
from localwork.models.hubfiles import quantization_of, split_part
from tests.support.fakehub import GOOD_TOKEN, make_gguf

REPO = "test/Tiny-GGUF"


def test_choices_carry_size_sha_and_group_split_sets(hub):
    hub.add(REPO, "tiny-q4_k_m.gguf", make_gguf(10_000))
    hub.add(REPO, "README.md", b"# hi")
    for index in (1, 2, 3):
        hub.add(REPO, f"big/tiny-q8_0-{index:05d}-of-00003.gguf", make_gguf(5_000, seed=index))
    hub.add(REPO, "broken-q2_k-00001-of-00002.gguf", make_gguf(100))  # part 2 missing on the Hub
    choices = HubClient().gguf_choices(REPO)
    assert [(c.name, c.quantization, len(c.files)) for c in choices] == [
        ("big/tiny-q8_0-00001-of-00003.gguf", "Q8_0", 3),
        ("tiny-q4_k_m.gguf", "Q4_K_M", 1),
    ]
    single = choices[1]
    assert single.size == 10_000
    assert single.files[0].sha256 == hub.sha256(hub.file(REPO, "tiny-q4_k_m.gguf"))
    assert choices[0].size == 15_000
    assert HubClient().choice(REPO, "big/tiny-q8_0-00002-of-00003.gguf") == choices[0]


def test_unknown_repo_and_unknown_file(hub):
    with pytest.raises(HubNotFound, match="no model repo nobody/nothing"):
        HubClient().gguf_choices("nobody/nothing")
    hub.add(REPO, "tiny-q4_k_m.gguf", make_gguf(1000))
    with pytest.raises(HubNotFound, match=r"no GGUF file called 'other\.gguf'"):
        HubClient().choice(REPO, "other.gguf")


def test_private_repo_asks_for_a_token(hub):
    hub.add(REPO, "tiny-q4_k_m.gguf", make_gguf(1000))
    hub.repos[REPO].private = True
    with pytest.raises(HubAuthRequired, match="HF_TOKEN"):
        HubClient().gguf_choices(REPO)
    assert HubClient(token=GOOD_TOKEN).gguf_choices(REPO)


def test_offline_endpoint(monkeypatch):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    with pytest.raises(HubOffline, match="Cannot reach"):
        HubClient().gguf_choices(REPO)


def test_bad_repo_id_is_refused_before_any_request():
    with pytest.raises(InvalidRequest, match="owner/name"):
        HubClient().gguf_choices("../../etc")


@pytest.mark.parametrize(
    ("name", "quant"),
    [
        ("qwen2.5-1.5b-instruct-q4_k_m.gguf", "Q4_K_M"),
        ("Llama-3.2-1B-Instruct-IQ4_XS.gguf", "IQ4_XS"),
        ("model-f16.gguf", "F16"),
        ("plain.gguf", None),
    ],
)
def test_quantization_from_file_names(name, quant):
    assert quantization_of(name) == quant


def test_split_part_names():
    assert split_part("a-00002-of-00004.gguf") == (2, 4)
    assert split_part("a.gguf") is None
