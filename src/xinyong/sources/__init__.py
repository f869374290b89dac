"""Where the model's numbers come from, shipped with the package so every citation resolves.

Three kinds of source are cited in packs, scenarios and the README:

- a seed article, as ``seed 002`` (title, outlet and date in ``seeds.toml``);
- a published fact from ``sources.md`` (a copy of the project's table of published facts),
  named by its source, e.g. ``Foreign Policy 2018`` or ``Rongcheng Measures art. 5``, or a
  dated figure's source in ``record.toml`` (the published record), e.g. ``SPC via Xinhua``;
- ``assumption``: a modelling choice of ours;
- a fit: a value fitted to the published record by ``xinyong calibrate``, citing the pack of
  fitted values it wrote (``packs/fitted-history.toml``), which names its record, its date,
  its command and each value's interval.

:func:`resolve` names the sources a citation cites, and raises :class:`UnknownSourceError` for a
part of a citation that cites none of them.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["Seed", "UnknownSourceError", "published_sources", "resolve", "seeds", "text"]

#: Files of this package: ``sources.md`` (published facts) and ``system.md`` (the system spec).
FILES = ("sources.md", "system.md")


class UnknownSourceError(ValueError):
    """A citation that names no seed article, no published source and no assumption."""


@dataclass(frozen=True)
class Seed:
    """One seed article."""

    number: str
    file: str
    title: str
    outlet: str
    date: str

    def __str__(self) -> str:
        return f'seed {self.number}: "{self.title}", {self.outlet}, {self.date}'


def text(name: str) -> str:
    """The text of one of the package's source files (``sources.md`` or ``system.md``)."""
    if name not in FILES:
        raise KeyError(f"no source file '{name}'; files: {', '.join(FILES)}")
    return (resources.files(__package__) / name).read_text(encoding="utf-8")


@cache
def seeds() -> dict[str, Seed]:
    """The seed articles by number ("000" to "004")."""
    raw = tomllib.loads((resources.files(__package__) / "seeds.toml").read_text("utf-8"))
    return {s["number"]: Seed(**s) for s in raw["seeds"]}


@cache
def published_sources() -> dict[str, str]:
    """The published sources of ``sources.md``: a short key (the first words of the source's
    name, lower case) -> the source as the table names it."""
    names: list[str] = []
    for line in text("sources.md").splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if len(cells) >= 3 and cells[-1] not in ("source", "same", "seed"):
                names += [part.strip() for part in re.split(r";|/", cells[-1])]
        elif line.startswith("visibility.") or "Source:" in line:
            names += [line.split("Source:", 1)[-1].split(" and ")[0].strip(" .")]
        elif line.startswith("- ") and "," in line:  # a study: "Authors, "Title", venue"
            names.append(line[2:].split(",")[0])
    record = tomllib.loads((resources.files(__package__) / "record.toml").read_text("utf-8"))
    for entry in record.get("dates", []) + record.get("observations", []):
        names += [part.strip() for part in re.split(r";|/", entry["source"])]
    keys = {_key(n): n for n in names if _key(n) and not n.startswith("same")}
    keys["rongcheng attachment"] = keys["rongcheng personal"]  # the short form packs use
    return keys


def _key(name: str) -> str:
    words = re.split(r"[,:(\"“]", name, maxsplit=1)[0].split()
    return " ".join(words[:2]).lower().strip(". ")


_SEED = re.compile(r"\bseeds? (\d{3})((?:(?:,| and| or|-) ?\d{3})*)")
_FILES = re.compile(r"\b(?:shared/spec/)?(sources\.md|system\.md|record\.toml)\b")
_FIT = re.compile(r"\b(fitted-[a-z0-9-]+)\.toml\b")


def resolve(citation: str) -> list[str]:
    """The sources one citation cites, e.g. ``["seed 002", "Foreign Policy"]``.

    Each part of the citation (parts are separated by ``;``) must cite a seed article that
    exists, a published source of ``sources.md``, one of the package's source files, or
    ``assumption``.

    Raises:
        UnknownSourceError: a part cites none of them, or a seed number that does not exist.
    """
    found: list[str] = []
    keys = published_sources()
    for part in _parts(citation):
        if not part:
            continue
        cited: list[str] = []
        for m in _SEED.finditer(part):
            numbers = [m.group(1), *re.findall(r"\d{3}", m.group(2))]
            if m.group(2).startswith("-"):  # a range: seed 000-004
                numbers = [f"{n:03d}" for n in range(int(numbers[0]), int(numbers[1]) + 1)]
            for number in numbers:
                if number not in seeds():
                    raise UnknownSourceError(
                        f"'{citation}': there is no seed {number}; seeds: {', '.join(seeds())}"
                    )
                cited.append(f"seed {number}")
        cited += [m.group(1) for m in _FILES.finditer(part)]
        for m in _FIT.finditer(part):
            if not (resources.files("xinyong") / "packs" / f"{m.group(1)}.toml").is_file():
                raise UnknownSourceError(
                    f"'{citation}': there is no fit packs/{m.group(1)}.toml; run xinyong "
                    "calibrate and ship its fitted.toml there"
                )
            cited.append(f"fit {m.group(1)}")
        if "assumption" in part.lower():
            cited.append("assumption")
        lower = part.lower()
        cited += [name for key, name in keys.items() if key in lower]
        if not cited:
            raise UnknownSourceError(
                f"'{citation}': '{part}' cites no seed article (seed 000 to "
                f"004), no published source of sources.md and no assumption"
            )
        found += cited
    return found


def _parts(citation: str) -> list[str]:
    """The parts of a citation: split at each ``;`` outside parentheses."""
    parts, depth, current = [], 0, ""
    for ch in citation:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == ";" and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    return [p for p in [*parts, current.strip()] if p]
