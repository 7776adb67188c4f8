"""Shared test setup: every test starts with the default global modes and a seeded stream."""

from __future__ import annotations

import pytest

import shendu as sd


@pytest.fixture(autouse=True)
def _default_modes():
    """A test that fails inside no_grad() or detect_anomaly() must not leak its mode."""
    sd.manual_seed(0)
    yield
    sd.set_grad_enabled(True)
    sd.set_detect_anomaly(False)
