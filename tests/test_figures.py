"""The plots a reader trusts at a glance: ordered grade colours, bands, intervals, differences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import xinyong
from xinyong.views.figures import (
    CHILLING_GROUPS,
    PALETTE,
    RunData,
    city_figures,
    compare_figures,
    format_difference,
    format_value,
    grade_colours,
    run_data,
    side_names,
    summary_rows,
)


@pytest.fixture(scope="module")
def data() -> RunData:
    with xinyong.simulate("rongcheng", citizens=2500, days=60, seed=3) as run:
        return run_data(run)


@pytest.fixture(scope="module")
def figures(data: RunData) -> dict:
    return dict(city_figures(data))


def _find(figures: dict, start: str):
    return next(fig for title, fig in figures.items() if title.startswith(start))


def test_no_two_series_share_a_colour_up_to_seventeen(figures: dict) -> None:
    assert len(set(PALETTE)) >= 17
    sensors = _find(figures, "Events recorded by sensor")
    assert 13 <= len(sensors.data) <= len(PALETTE)
    assert list(sensors.layout.colorway) == PALETTE


@pytest.mark.parametrize("n", [2, 5, 6, 7, 8])
def test_grade_colours_run_green_to_red_and_no_two_look_alike(n: int) -> None:
    """Best green, worst red, and no two grades near-identical (issue 25: grades A and B were
    two pale yellows); up to 8 grades, more than any built-in scheme has."""
    colours = grade_colours([f"g{i}" for i in range(n)])
    rgb = np.array([[int(x) for x in c[4:-1].split(",")] for c in colours.values()])
    assert rgb[0, 1] > rgb[0, 0] and rgb[-1, 0] > rgb[-1, 1]  # green first, red last
    red_minus_green = rgb[:, 0] - rgb[:, 1]
    assert red_minus_green[n // 2 :].tolist() == sorted(red_minus_green[n // 2 :])
    closest = min(np.linalg.norm(a - b) for i, a in enumerate(rgb) for b in rgb[i + 1 :])
    assert closest > 60, colours
    lightness = rgb.sum(axis=1) / 3
    assert lightness.max() < 200  # no pale yellow on white


def test_score_plot_overlays_error_free_scores_with_grade_bands(
    data: RunData, figures: dict
) -> None:
    fig = _find(figures, "Scores and error-free scores — ")
    assert [t.name for t in fig.data] == ["scores", "error-free scores"]
    labels = {a.text for a in fig.layout.annotations}
    assert labels == {g for g, _ in data.grades}
    assert len(fig.layout.shapes) == len(data.grades)


def test_small_grades_show_on_a_log_scale_in_grade_order(data: RunData, figures: dict) -> None:
    fig = _find(figures, "Grade shares over time")
    assert fig.layout.yaxis.type == "log"
    names = [t.name for t in fig.data]
    order = [g for g, _ in data.grades] + [data.listed_grade]
    assert names == sorted(names, key=order.index)


def test_share_axis_never_goes_above_everyone(figures: dict) -> None:
    fig = _find(figures, "Grade shares over time")
    low, high = fig.layout.yaxis.range  # log10 of the share
    assert high <= np.log10(1.15) and low < 0


def test_a_scheme_that_grades_no_one_apart_draws_no_grade_or_listed_plots() -> None:
    """The history run's court scheme: one grade everyone holds, no listing by score (its
    lists list). Its grade shares (a flat 100 %), one-cell grade matrix, "listed" line (flat
    zero beside 28 on the court's list) and "graded wrongly" (never possible) said nothing."""
    from xinyong.views.headline import headline

    with xinyong.simulate("history", citizens=2000, days=60, seed=1) as run:
        data = run_data(run)
    titles = [t for t, _ in city_figures(data)]
    assert not data.lists_by_score
    assert "List members over time" in titles
    for gone in ("Grade shares over time", "Real grade against", "Listed over time"):
        assert not any(t.startswith(gone) for t in titles), gone
    assert not any("graded wrongly" in f for f, _ in headline(data.summary))
    with xinyong.simulate("rongcheng", citizens=2000, days=30, seed=1) as run:
        assert any("graded wrongly" in f for f, _ in headline(run.summary))


def test_grade_matrix_counts_every_covered_citizen(data: RunData, figures: dict) -> None:
    fig = _find(figures, "Real grade against error-free grade")
    total = sum(v for row in data.summary["grade_matrix"].values() for v in row.values())
    assert int(np.asarray(fig.data[0].text).sum()) == total
    assert fig.layout.xaxis.title.text == "error-free grade"


def test_listed_line_is_drawn_on_top(figures: dict) -> None:
    fig = _find(figures, "Listed over time")
    names = [t.name for t in fig.data]
    assert names.index("listed") > names.index("listed without errors")
    assert fig.data[names.index("listed")].line.width >= 3


def test_wrongful_listings_per_list_and_who_is_listed(data: RunData, figures: dict) -> None:
    fig = _find(figures, "Wrongly listed on each list over time")
    assert len(fig.data) == data.daily_lists.groupby(["operator", "list"]).ngroups
    assert set(data.listed_by) == {"age", "district", "income band"}
    for attribute, frame in data.listed_by.items():
        # a group panel where someone is listed by grade, real or error-free; none of nothing
        drawn = bool(frame["listed"].any() or frame["counterfactual"].any())
        assert (f"Who is listed, by {attribute}" in figures) == drawn
    income = figures.get("Who is listed, by income band")
    assert income is None or set(income.data[0].x) <= {"low", "middle", "high"}
    with xinyong.simulate("rongcheng", citizens=20_000, days=120, seed=3) as run:
        listed = dict(city_figures(run_data(run)))  # some reach grade D here: drawn
    assert set(listed["Who is listed, by income band"].data[0].x) <= {"low", "middle", "high"}


def test_harms_count_citizens_and_refusals_apart(data: RunData, figures: dict) -> None:
    harms = figures["Harms to citizens"]
    assert harms.layout.xaxis.title.text == "citizens"
    names = list(harms.data[0].y)
    assert not any("refusal" in str(x) for x in names)
    assert "Refusals at the point of service" in figures
    # A wrongful place on a reward list is no harm (issue 25); the system-wide figure leads.
    assert not any("model-citizens" in name for name in names)
    assert names[0] == "wrongly blacklisted now"
    assert harms.data[0].x[0] == data.summary["wrongly_blacklisted"]
    assert list(harms.data[0].text) == [f"{v:,}" for v in harms.data[0].x]  # counts shown


def test_sanctions_chart_has_room_for_its_labels(figures: dict) -> None:
    fig = figures["Sanctions and rewards at the point of service"]
    assert fig.data[0].orientation == "h"
    assert fig.layout.margin.l >= 150 and fig.layout.legend.y >= 1.0
    assert fig.layout.height >= 22 * len(fig.data[0].y)


def test_chilling_effect_by_meaning_with_intervals(figures: dict) -> None:
    """Four groups that say what a change in them means (issue 25: speech was among the
    'deterrence, intended'), each behaviour in its own, with its interval."""
    fig = _find(figures, "Chilling effect")
    groups = {t.name: set(t.y) for t in fig.data}
    assert set(groups) <= {label for label, _ in CHILLING_GROUPS.values()}
    speech = groups["expression and protest: a fall is speech chilled"]
    assert {"speaking_against_government", "illegal_protest"} <= speech
    assert "good_deed" in groups["rewarded: a rise is encouragement"]
    assert "jaywalking" in groups["penalised: a fall is deterrence"]
    assert sum(len(g) for g in groups.values()) == len(set().union(*groups.values()))
    for trace in fig.data:
        assert len(trace.error_x.array) == len(trace.x)
        assert all(v >= 0 for v in trace.error_x.array)
    assert fig.layout.legend.y >= 1  # above the panel, under the title


def test_day_zero_axes_start_at_zero() -> None:
    empty = RunData(
        "new",
        {"days": 365, "wrongly_listed": 0},
        pd.DataFrame({"day": [], "listed": [], "counterfactual_listed": []}),
    )
    fig = dict(city_figures(empty))["Listed over time"]
    low, high = fig.layout.xaxis.range
    assert -1 < low <= 0 and high >= 1  # never -1 to 1
    assert fig.layout.xaxis.dtick == 1 and fig.layout.yaxis.dtick == 1  # whole days, counts
    assert fig.layout.yaxis.rangemode == "tozero"


def test_histograms_draw_nothing_over_an_empty_bin() -> None:
    """Issue 25: the error-free line was drawn straight across bins with no one in them."""
    hist = pd.DataFrame({"bin": [600, 610, 650], "count": [5, 3, 9], "counterfactual": [4, 0, 8]})
    data = RunData("h", {"days": 1}, pd.DataFrame({"day": [0]}), {"city": hist})
    fig = dict(city_figures(data))["Scores and error-free scores — city"]
    bars, line = fig.data
    assert list(bars.x) == [605, 615, 625, 635, 645, 655]  # every bin has its place
    assert list(bars.y) == [5, 3, None, None, None, 9]  # an empty one has no bar
    segments = []
    for x, y in zip(line.x, line.y, strict=True):
        if x is None:
            segments.append([])
        elif not segments:
            segments.append([(x, y)])
        else:
            segments[-1].append((x, y))
    assert segments == [[(600, 4), (610, 4)], [(650, 8), (660, 8)]]


def test_comparisons_name_sides_apart_and_show_b_minus_a() -> None:
    a = {
        "scenario": "reference",
        "seed": 1,
        "citizens": 100,
        "listed_share": 0.0123,
        "wrongly_listed": 5,
        "mean_score": 1000.0000000001,
    }
    b = {**a, "listed_share": 0.0150, "wrongly_listed": 7, "mean_score": 1000.0}

    def run(summary: dict, scenario: xinyong.Scenario | None = None) -> RunData:
        return RunData("reference (seed 1)", summary, pd.DataFrame(), scenario=scenario)

    name_a, name_b = side_names(run(a), run(b))
    assert name_a != name_b and name_a.startswith("A: ") and name_b.startswith("B: ")
    base = xinyong.load_scenario("reference")
    changed = xinyong.scenario.validate_scenario(
        {
            **base.model_dump(by_alias=True),
            "sensors": {
                k: {**v.model_dump(), "misidentify": 0.05} if k == "camera" else v.model_dump()
                for k, v in base.sensors.items()
            },
        },
        "changed",
    )
    name_a, name_b = side_names(run(a, base), run(b, changed))
    assert name_a == "A: sensors.camera.misidentify = 0.01"
    assert name_b == "B: sensors.camera.misidentify = 0.05"
    rows = {k: d for k, _, _, d in summary_rows({**a, "about": {"x": "y"}}, b)}
    assert not any(k.startswith("about.") for k in rows)
    assert rows["mean_score"] is False  # equal as shown: not highlighted
    assert rows["listed_share"] and rows["wrongly_listed"]
    assert format_value("listed_share", 0.0123) == "1.230%"
    assert format_difference("listed_share", 0.0123, 0.0150) == "+0.270\u00a0pp"
    assert format_difference("wrongly_listed", 5, 7) == "+2"


def test_comparison_plots_differences_with_a_band(data: RunData) -> None:
    figs = dict(compare_figures(data, data))
    fig = figs["Listed: B − A"]
    band, diff = fig.data
    assert band.fill == "toself" and diff.name == "B − A"
    assert set(diff.y) == {0}
