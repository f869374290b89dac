"""What the CLI and the summary say, in words a reader cannot misread: every summary key has a
description, tables fit 80 columns without cutting a name, numbers are written as people write
them, answers say why, and which figure is which."""

from __future__ import annotations

import io
import re
import types
from pathlib import Path

import pandas as pd
import pytest
from rich.cells import cell_len
from rich.console import Console

import xinyong
from xinyong.views.cli.running import _print_changes, _print_summary
from xinyong.views.cli.studying import _experiment_tables, _num


@pytest.fixture(scope="module")
def summaries() -> dict[str, dict]:
    """The summary of every built-in scenario at a small size (one with an override)."""
    out = {}
    for name in sorted(xinyong.builtin_scenarios()):
        overrides = {"sensors.camera.misidentify": 0.05} if name == "reference" else None
        with xinyong.simulate(name, citizens=2400, days=40, seed=2, set=overrides) as run:
            out[name] = run.summary
    return out


def test_every_summary_key_of_every_builtin_scenario_says_what_it_counts(
    summaries: dict[str, dict],
) -> None:
    for name, summary in summaries.items():
        about = summary["about"]
        missing = [k for k in summary if k != "about" and not about.get(k)]
        assert not missing, f"{name}: no description for {missing}"
    # The keys the issue found bare, among them:
    rongcheng = summaries["rongcheng"]["about"]
    for key in ("gate_denials", "wrongly_denied", "children_affected"):
        assert len(rongcheng[key]) > 20
    assert "overrides" in summaries["reference"]  # ... and what a run set


def _printed(print_tables, summary: dict, width: int = 80) -> str:
    screen = io.StringIO()
    console = Console(file=screen, width=width, record=False)
    import xinyong.views.cli.running as running

    keep, running.console = running.console, console
    try:
        print_tables(summary)
    finally:
        running.console = keep
    return screen.getvalue()


@pytest.mark.parametrize("name", ["rongcheng", "nation", "demonstration-cities", "corporate"])
def test_summary_tables_fit_80_columns_and_never_cut_a_name(
    summaries: dict[str, dict], name: str
) -> None:
    summary = summaries[name]
    text = _printed(_print_summary, summary) + _printed(_print_changes, summary)
    assert "…" not in text  # nothing cut
    assert all(cell_len(line) <= 80 for line in text.splitlines())
    words = set(re.findall(r"[\w:.-]+", text))
    for key, value in summary.items():
        if not isinstance(value, (dict, list)) and key != "about":
            assert key in words, key
    for op, figures in summary.get("operators", {}).items():
        assert op in words and figures["scheme"] in words
    for city in summary.get("cities", {}):
        assert city in words


def test_chilling_rows_say_which_count_is_the_city_and_which_the_twin(
    summaries: dict[str, dict],
) -> None:
    summary = summaries["rongcheng"]
    text = _printed(_print_changes, summary, width=100)
    assert "in the city" in text and "in the twin" in text
    assert " vs " not in text
    name, row = next(iter(summary["chilling_detail"].items()))
    line = next(line for line in text.splitlines() if line.strip().startswith(name))
    assert line.split()[-2:] == [f"{row['with']:,}", f"{row['without']:,}"]


def test_numbers_are_written_as_people_write_them() -> None:
    assert _num(818.5) == "818.5"
    assert _num(33727.4) == "33,727"
    assert _num(1.72) == "1.72"
    assert _num(-1.6e-05) == "-1.6×10⁻⁵"
    assert _num(1.62e7) == "1.62×10⁷"
    assert _num(0.004988) == "0.004988"
    assert _num(float("inf")) == "∞" and _num(float("nan")) == "—"
    for value in (1e-9, 3.3e-5, 2.5e12, -7e8):
        assert "e" not in _num(value)


def _effects() -> types.SimpleNamespace:
    rows = [
        ("wrongly_graded", 818.5, 795.2, 841.8, 789.9, 847.1, 1.72),
        ("wrongly_downgraded", 412.5, 402.8, 422.2, 394.6, 430.4, 3.93),
        ("points_lost_to_errors", 33727, 33391, 34062, 33314, 34139, 1.67),
        ("mean_score", -1.6e-05, -5.219e-05, 2.019e-05, -0.1352, 0.1352, 1.62e7),
        ("operators.city.lists.dishonest-debtors.members_share", 1e-4, 0, 2e-4, -1, 1, 1.1),
    ]
    effects = pd.DataFrame(
        [
            dict(
                arm="cameras-5pc",
                metric=m,
                mean_diff=d,
                lo=lo,
                hi=hi,
                unpaired_lo=ulo,
                unpaired_hi=uhi,
                variance_reduction=vr,
            )
            for m, d, lo, hi, ulo, uhi, vr in rows
        ]
    )
    return types.SimpleNamespace(
        sensitivity=None, effects=effects, plan=types.SimpleNamespace(baseline="cameras-1pc")
    )


def test_experiment_tables_fit_80_columns_without_breaking_a_name() -> None:
    screen = io.StringIO()
    console = Console(file=screen, width=80)
    exp = _effects()
    for table in _experiment_tables(exp):
        console.print(table)
    text = screen.getvalue()
    assert all(cell_len(line) <= 80 for line in text.splitlines())
    assert "…" not in text and "e-05" not in text and "e+07" not in text
    for metric in exp.effects["metric"]:
        # whole, or broken only after its dots
        parts = re.split(r"(?<=\.)", metric)
        assert all(part in text for part in parts), metric
    assert "wrongly_downgraded" in text  # the name the issue saw broken as "wrongly_downgrad / ed"
    # One name for what pairing saves, as in effects.csv (variance_reduction).
    assert "variance" in text and "reduction" in text and "pairing gain" not in text


def test_the_progress_bar_says_which_time_is_which_and_its_last_word_is_whole() -> None:
    from xinyong.views.progress import FINISHING, FINISHING_STORE, days_bar

    for twin, words in ((True, FINISHING), (False, FINISHING_STORE)):
        screen = io.StringIO()
        bar = Console(file=screen, width=120, force_terminal=True)
        with days_bar("rongcheng: 740,000 citizens", 365, bar, twin=twin) as update:
            update(100)
            update(365)
        plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
        assert "elapsed," in plain and " left" in plain
        assert words in " ".join(plain.split())  # wrapped, never cut at 120 columns
        assert (FINISHING in " ".join(plain.split())) == twin


def test_gate_answers_say_why(tmp_path: Path) -> None:
    with xinyong.simulate("rongcheng", citizens=3000, days=30, seed=4) as run:
        ages = run.query("SELECT citizen, age FROM population ORDER BY citizen")
        child = int(ages[ages.age < 18].citizen.iloc[0])
        young = run.gate("rail", child)
        assert young.label == "not eligible" and not young.eligible
        assert str(young).startswith("rail: NOT ELIGIBLE. ")
        assert "from age 18" in young.text
        clean = run.query(
            "SELECT p.citizen FROM population p JOIN standings s ON s.subject = p.citizen "
            "WHERE s.operator = 0 AND s.grade = 'A' AND p.age BETWEEN 18 AND 64 AND "
            "p.citizen NOT IN (SELECT subject FROM memberships) ORDER BY 1 LIMIT 1"
        )
        allowed = run.gate("rail", int(clean.citizen[0]))
        assert allowed.action == "allow"
        assert allowed.text == (
            "No rule of this service applies. Checked: grade A under 'city' (C acts); not "
            "listed as a dishonest debtor; not the legal representative of a blacklisted company."
        )
