"""The example notebooks run end to end, and runs, explanations and decisions show as HTML."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import xinyong
from xinyong.model.gates import Decision

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PLOTLY = "application/vnd.plotly.v1+json"  # how a Plotly figure shows in a notebook


@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("*.ipynb")))
def test_example_notebook_runs(name: str) -> None:
    book = nbformat.read(EXAMPLES / f"{name}.ipynb", as_version=4)
    NotebookClient(
        book, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(EXAMPLES)}}
    ).execute()
    outputs = [o for cell in book.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    plots = [o for o in outputs if PLOTLY in o.get("data", {})]
    assert plots, "the notebook shows no plot"  # issue 25: none of the three did
    assert all(o["data"][PLOTLY]["data"] for o in plots)  # each with something drawn
    words = " ".join(
        "".join(cell.source) for cell in book.cells if cell.cell_type == "markdown"
    ).lower()
    assert "face recognition" not in words and "face-recognition" not in words
    if name == "citizens_story":  # the run, the explanation and a decision show as HTML
        shown = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
        assert any("Run 'rongcheng'" in h for h in shown)
        assert any("score" in h and "<table>" in h for h in shown)
        assert any("days" in h and "progress" in h for h in shown)  # the progress bar
    if name == "explore":  # the widgets show, the slider is in the timeline, days ran
        views = [
            o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
        ]
        assert views
        printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
        assert "day 31 - " in printed and " 0 plots" not in printed
        last = book.cells[-1].outputs[0]["data"]["text/plain"]
        assert last == "(31, [20, 21])"  # the run saved: 31 days, the set and the slider


def test_a_run_and_an_explanation_show_short_html() -> None:
    with xinyong.simulate("reference", citizens=500, days=30, seed=1) as run:
        page = run._repr_html_()
        assert "Run 'reference'" in page and "listed share" in page
        explanation = run.explain(3)
        assert len(repr(explanation)) < 200 and "score" in repr(explanation)
        assert explanation._repr_html_().count("<tr>") <= 31


def test_a_decision_shows_its_action_and_reason() -> None:
    page = Decision("rail", 7, "deny", ("On the blacklist 'debtors'.",))._repr_html_()
    assert "DENY" in page and "rail" in page and "debtors" in page


def test_a_run_and_an_experiment_give_their_reports_plots() -> None:
    """``run.plot(NAME)`` is the report's figure of that title, ``run.plot()`` all of them
    (shown one after another); a name that is no plot's says which are."""
    from xinyong.views.figures import city_figures, run_data

    with xinyong.simulate("reference", citizens=500, days=30, seed=1) as run:
        report = dict(city_figures(run_data(run)))
        plots = run.plot()
        assert list(plots) == list(report)
        assert run.plot("listed over time") == report["Listed over time"]
        with pytest.raises(KeyError, match="Listed over time"):
            run.plot("no such plot")
    design = {
        "scenario": "reference",
        "citizens": 400,
        "days": 20,
        "seeds": [1, 2],
        "metrics": ["wrongly_graded", "mean_score"],
        "arms": [{"name": "a"}, {"name": "b", "set": {"sensors.camera.misidentify": 0.05}}],
    }
    figures = xinyong.experiment(design).plot()
    assert list(figures) == [
        "wrongly_graded: difference from a",
        "mean_score: difference from a",
    ]
