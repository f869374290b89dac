"""Shared fixtures."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def reference_dict() -> dict[str, Any]:
    """The reference scenario as a plain dict, to edit."""
    from xinyong import load_scenario

    return load_scenario("reference").model_dump()
