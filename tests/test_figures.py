"""The plots a reader trusts at a glance: ordered grade colours, bands, intervals, differences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import xinyong
from xinyong.views.figures import (
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


def test_grade_colours_follow_grade_order() -> None:
    colours = grade_colours(["AAA", "AA", "A", "B", "C", "D"])
    rgb = [tuple(int(x) for x in c[4:-1].split(",")) for c in colours.values()]
    red_minus_green = [r - g for r, g, _ in rgb]
    assert red_minus_green == sorted(red_minus_green)  # green (best) to red (worst)
    assert len(set(colours.values())) == 6


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
    for attribute in ("age", "district", "income band"):
        assert f"Who is listed, by {attribute}" in figures
    income = figures["Who is listed, by income band"]
    assert set(income.data[0].x) <= {"low", "middle", "high"}


def test_harms_count_citizens_and_refusals_apart(figures: dict) -> None:
    harms = figures["Harms to citizens"]
    assert harms.layout.yaxis.title.text == "citizens"
    assert not any("refusal" in str(x) for x in harms.data[0].x)
    assert "Refusals at the point of service" in figures


def test_sanctions_chart_has_room_for_its_labels(figures: dict) -> None:
    fig = figures["Sanctions and rewards at the point of service"]
    assert fig.data[0].orientation == "h"
    assert fig.layout.margin.l >= 150 and fig.layout.legend.y >= 1.0
    assert fig.layout.height >= 22 * len(fig.data[0].y)


def test_chilling_effect_by_meaning_with_intervals(figures: dict) -> None:
    fig = _find(figures, "Chilling effect")
    assert {t.name.split(" (")[0] for t in fig.data} == {
        "punished behaviour",
        "rewarded or neutral behaviour",
    }
    for trace in fig.data:
        assert len(trace.error_x.array) == len(trace.x)
        assert all(v >= 0 for v in trace.error_x.array)


def test_day_zero_axes_start_at_zero() -> None:
    empty = RunData(
        "new",
        {"days": 365, "wrongly_listed": 0},
        pd.DataFrame({"day": [], "listed": [], "counterfactual_listed": []}),
    )
    fig = dict(city_figures(empty))["Listed over time"]
    assert list(fig.layout.xaxis.range) == [0, 1]
    assert fig.layout.yaxis.rangemode == "tozero"


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
