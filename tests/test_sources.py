"""Every citation in the packs, scenarios, patterns and README resolves to a shipped source."""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from xinyong.sources import UnknownSourceError, resolve, seeds, text

PACKAGE = Path(str(resources.files("xinyong")))
README = PACKAGE.parents[1] / "README.md"


def _sources(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [v for k, v in node.items() if k == "source" and isinstance(v, str)]
        each = node.get("sources")  # a scenario's sources of its top-level values
        if isinstance(each, dict):
            own += [v for v in each.values() if isinstance(v, str)]
        return own + [s for v in node.values() for s in _sources(v)]
    if isinstance(node, list):
        return [s for v in node for s in _sources(v)]
    return []


def _citations() -> list[tuple[str, str]]:
    out = []
    for folder in ("packs", "scenarios", "patterns"):
        for path in sorted((PACKAGE / folder).glob("*.toml")):
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            out += [(f"{folder}/{path.name}", c) for c in _sources(data)]
    return out


def test_there_are_citations_to_check() -> None:
    assert len(_citations()) > 200


@pytest.mark.parametrize("where, citation", _citations())
def test_every_citation_resolves(where: str, citation: str) -> None:
    assert resolve(citation), where


def test_every_seed_the_readme_cites_ships_with_the_package() -> None:
    cited = set(re.findall(r"(?<![-\w])seed (\d{3})\b", README.read_text(encoding="utf-8")))
    assert cited and cited <= set(seeds())
    for seed in seeds().values():
        assert seed.title and seed.outlet and seed.date


def test_unknown_sources_are_refused() -> None:
    with pytest.raises(UnknownSourceError, match="no seed 009"):
        resolve("seed 009")
    with pytest.raises(UnknownSourceError, match="cites no seed article"):
        resolve("seed 002; my uncle said so")
    assert resolve("Foreign Policy 2018 (traffic ticket -5)") == ["Foreign Policy 2018"]


def test_the_published_facts_ship_with_the_package() -> None:
    assert "Rongcheng" in text("sources.md") and len(text("system.md")) > 1000
