"""Fitted values as a pack: what ``xinyong calibrate`` found, ready to apply to a scenario.

A fitted pack is a small TOML file of overrides by path (the paths of ``--set``), each with its
posterior median, its 95 % interval and a source that cites the fit::

    name = "fitted-history"
    about = "history's assumed values fitted to the published record"
    scenario = "history"
    record = "record.toml"
    date = "2026-12-07"
    command = "xinyong calibrate history --hours 1"
    source = "xinyong calibrate: ABC-SMC fit of history to record.toml, 2026-12-07"

    [[values]]
    path = "behaviours.contract_breach_judgment.p"
    value = 2.1e-06          # the posterior median
    low = 1.4e-06            # its 95 % interval
    high = 3.3e-06
    parameter = "debt_judgments"
    identified = true
    source = "fit of history to record.toml (packs/fitted-history.toml)"

``xinyong simulate --fitted FILE`` (or ``simulate(..., set=load_fitted(FILE).overrides)``)
applies the values before any ``--set``. Only identified values are applied unless asked
(``all_values``): a value the record does not pin down is its prior's median, not a finding.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from xinyong.scenario.errors import ScenarioError
from xinyong.scenario.packs import builtin_packs, read_data_file

__all__ = ["FittedPack", "FittedValue", "load_fitted"]


class FittedValue(BaseModel):
    """One fitted value: a path, its posterior median and 95 % interval."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(min_length=1, description="the path, as --set names it")
    value: float = Field(allow_inf_nan=False, description="the posterior median")
    low: float = Field(allow_inf_nan=False, description="the 95 % interval's lower end")
    high: float = Field(allow_inf_nan=False, description="... and its upper end")
    parameter: str = Field(min_length=1, description="the fitted parameter it follows")
    identified: bool = Field(description="whether the record narrows it (xinyong calibrate)")
    source: str = Field(min_length=1)


class FittedPack(BaseModel):
    """A pack of fitted values, with what was fitted to what, when and how."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    about: str = Field(min_length=1)
    scenario: str = Field(min_length=1, description="the scenario fitted")
    record: str = Field(min_length=1, description="the record it was fitted to")
    date: dt.date
    command: str = Field(min_length=1, description="the command that made it")
    source: str = Field(min_length=1)
    values: list[FittedValue] = Field(min_length=1)

    def overrides(self, all_values: bool = False) -> dict[str, float]:
        """Path → fitted value: the identified ones, or every one with ``all_values``."""
        return {v.path: v.value for v in self.values if v.identified or all_values}

    def to_toml(self) -> str:
        """The pack as TOML text, with a header that says what it is."""
        head = (
            f"# Values of '{self.scenario}' fitted to {self.record} by xinyong calibrate.\n"
            "# value: the posterior median; low, high: its 95 % interval. `xinyong simulate\n"
            "# --fitted FILE` applies the identified ones (see xinyong.scenario.fitted).\n"
        )
        return head + tomli_w.dumps(self.model_dump(mode="json"))


def load_fitted(name_or_path: str | Path) -> FittedPack:
    """A fitted pack, by file or by the name of a built-in one (``fitted-history``).

    Raises:
        ScenarioError: a file that cannot be read or is not a fitted pack, naming the field.
    """
    path = Path(name_or_path)
    packs = builtin_packs()
    if not path.is_file() and str(name_or_path) in packs:
        path = packs[str(name_or_path)]
    if not path.is_file():
        fits = ", ".join(sorted(n for n in packs if n.startswith("fitted-"))) or "none"
        raise ScenarioError(
            f"no fitted pack '{name_or_path}': give the fitted.toml that xinyong calibrate "
            f"wrote, or a built-in fit ({fits})"
        )
    data = read_data_file(path, "fitted pack")
    try:
        return FittedPack.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ScenarioError(
            f"fitted pack '{path.name}', {where}: {first['msg']} (a fitted pack is what "
            "xinyong calibrate writes: see xinyong.scenario.fitted)"
        ) from None
