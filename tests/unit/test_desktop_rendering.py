"""Where OpenGL would be emulated on the CPU, the window draws with Qt Quick's software
renderer (measured by tests/benchmarks/window_benchmark.py: 0.29 -> 0.82 of the direct loop)."""

import os
import sys

import pytest

from localwork.transports import desktop


@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.setattr(os, "environ", dict(os.environ))  # what _prepare_qt sets stays here
    for name in ("QT_QUICK_BACKEND", "LIBGL_ALWAYS_SOFTWARE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    return monkeypatch


def test_no_gpu_render_node_means_the_software_renderer(clean_env):
    clean_env.setattr(desktop.glob, "glob", lambda pattern: [])
    assert desktop.software_rendering()
    desktop._prepare_qt()
    assert desktop.os.environ["QT_QUICK_BACKEND"] == "software"


def test_a_gpu_keeps_opengl_unless_mesa_is_told_to_emulate_it(clean_env):
    clean_env.setattr(desktop.glob, "glob", lambda pattern: ["/dev/dri/renderD128"])
    assert not desktop.software_rendering()
    desktop._prepare_qt()
    assert "QT_QUICK_BACKEND" not in desktop.os.environ
    clean_env.setenv("LIBGL_ALWAYS_SOFTWARE", "1")
    assert desktop.software_rendering()


def test_the_users_own_choice_of_backend_is_kept(clean_env):
    clean_env.setattr(desktop.glob, "glob", lambda pattern: [])
    clean_env.setenv("QT_QUICK_BACKEND", "opengl")
    desktop._prepare_qt()
    assert desktop.os.environ["QT_QUICK_BACKEND"] == "opengl"
