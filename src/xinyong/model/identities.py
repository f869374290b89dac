"""Synthetic identities: citizens' names and identity numbers, organisations' credit codes.

Nothing here is stored or drawn from the run's streams: each identifier is a fixed function of
an id (and, for an identity number, the citizen's age and district), computed on demand when a
record is shown. They are visibly synthetic and built so that they cannot be mistaken for, or
collide with, a real person's or company's identifiers. Kept apart from the population's
columns (:mod:`xinyong.model.population`) because it is about how a citizen is displayed, not
who they are.
"""

from __future__ import annotations

__all__ = ["REFERENCE_YEAR", "citizen_name", "credit_code", "identity_number"]

#: Year in which synthetic ages are measured, used only to print a birth year in
#: :func:`identity_number` (assumption: the synthetic city's census year).
REFERENCE_YEAR = 2024

_MASK64 = (1 << 64) - 1
_SURNAMES = (
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Huang",
    "Zhao",
    "Wu",
    "Zhou",
    "Xu",
    "Sun",
    "Ma",
    "Zhu",
    "Hu",
    "Guo",
    "He",
    "Lin",
    "Gao",
    "Luo",
    "Zheng",
    "Liang",
    "Xie",
    "Song",
    "Tang",
    "Han",
    "Feng",
    "Deng",
    "Cao",
    "Peng",
    "Zeng",
    "Xiao",
    "Tian",
    "Dong",
    "Pan",
    "Yuan",
    "Cai",
    "Jiang",
    "Yu",
    "Du",
)
_GIVEN = (
    "mei",
    "lan",
    "wei",
    "jun",
    "hua",
    "ming",
    "li",
    "xin",
    "yu",
    "hao",
    "jie",
    "ting",
    "fang",
    "qiang",
    "lei",
    "yan",
    "ping",
    "bo",
    "na",
    "tao",
    "xia",
    "jing",
    "rui",
    "yi",
    "chen",
    "hong",
    "yun",
    "peng",
    "qing",
    "kai",
    "ning",
    "lin",
    "shan",
    "feng",
    "xue",
    "zhen",
    "hui",
    "an",
    "qi",
    "ying",
)


def _hash(value: int, salt: int) -> int:
    """SplitMix64 of ``value`` under ``salt``: a fixed, well-mixed 64-bit function of an id."""
    z = (value * 0x9E3779B97F4A7C15 + salt) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def citizen_name(citizen: int) -> str:
    """A visibly synthetic name for a citizen, a fixed function of the id.

    A pinyin-like surname and a one- or two-syllable given name, followed by the marker
    ``⟨SYN-…⟩`` holding the citizen id, e.g. ``"Huang Meilan ⟨SYN-000421⟩"``. The marker says
    that the name belongs to a synthetic citizen, never to a real person, and keeps names
    unique where syllables repeat.

    Args:
        citizen: a non-negative citizen id.
    """
    if citizen < 0:
        raise ValueError(f"citizen = {citizen}: ids are non-negative")
    z = _hash(citizen, 0x5EED_0A11)
    surname = _SURNAMES[z % len(_SURNAMES)]
    z //= len(_SURNAMES)
    given = _GIVEN[z % len(_GIVEN)]
    z //= len(_GIVEN)
    if z % 3:  # two syllables two times in three (assumption, for variety only)
        given += _GIVEN[(z // 3) % len(_GIVEN)]
    return f"{surname} {given.capitalize()} ⟨SYN-{citizen:06d}⟩"


def identity_number(citizen: int, age: int, district: int) -> str:
    """A synthetic resident identity number: ``SYN-<district>-<birth year>-<citizen id>``.

    For example ``identity_number(421, 37, 3) == "SYN-03-1987-000421"``, the birth year being
    :data:`REFERENCE_YEAR` minus the age. A real resident identity number (GB 11643-1999) is 18
    characters, 17 digits then a digit or ``X``; this one starts with letters and has dashes,
    so it can never match, or be mistaken for, a real one.

    Args:
        citizen: a non-negative citizen id.
        age: age in years.
        district: district index.
    """
    if citizen < 0 or district < 0:
        raise ValueError(f"citizen = {citizen}, district = {district}: both are non-negative")
    return f"SYN-{district:02d}-{REFERENCE_YEAR - age:04d}-{citizen:06d}"


def credit_code(org: int) -> str:
    """A synthetic unified social credit code of 18 characters: ``ZS000000<org:09d>Z``.

    Shaped like a code of GB 32100-2015 (registration authority, kind, 6-character
    administrative division, 9-character organisation code, check character), but invalid by
    construction: that standard's alphabet excludes I, O, Z, S and V, so the leading ``ZS``
    ("synthetic") and the trailing ``Z`` in the check position can appear in no real code, and
    ``000000`` is no administrative division.

    Args:
        org: an organisation id, 0 <= org < 10**9.
    """
    if not 0 <= org < 10**9:
        raise ValueError(f"org = {org}: credit codes number organisations 0 to 999,999,999")
    return f"ZS000000{org:09d}Z"
