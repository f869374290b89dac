"""The shipped packs (catalogue and scheme packs) and the built-in scenarios that use them.

Every pack loads with every table sourced; every built-in scenario loads and runs; the
catalogue holds every behaviour of rows B1-B3 and of the Rongcheng table; the scheme packs carry
the published figures (shared/spec/sources.md and the seeds).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import xinyong
from xinyong.model.operators import routing
from xinyong.scenario import ScenarioError, builtin_packs, load_pack, validate_scenario

SCHEME_PACKS = ["rongcheng", "pilot-city", "payment-provider", "corporate"]
SCENARIOS = ["rongcheng", "pilot-city", "corporate"]

# Row B1: behaviours that raise a score [000, 002, 003].
RAISE = [
    "charity_work",
    "volunteering",
    "elderly_care",
    "helping_neighbourhood",
    "blood_donation",
    "helping_poor",
    "good_credit_record",
    "litter_cleanup",
    "recycling",
    "good_deed",
    "helping_drunk_home",
    "heroic_act",
]
# Rows B2 and B3: behaviours that lower it [000, 001, 002, 003].
LOWER = [
    "traffic_offence",
    "jaywalking",
    "illegal_protest",
    "neglecting_elderly",
    "theft",
    "spreading_rumours",
    "speaking_against_government",
    "exam_cheating",
    "game_cheating",
    "restaurant_no_show",
    "false_review",
    "late_bills",
    "littering",
    "drinking_too_much",
    "misbehaving_with_people",
    "fraud",
    "violence",
    "frivolous_purchase",
    "excess_toilet_paper",
    "misbehaving_at_work",
    "violating_community_norms",
    "improper_dress",
    "undisciplined_lifestyle",  # B3: dress and lifestyle
]
# The Rongcheng deduction table (sources.md) and drunk driving (Foreign Policy 2018).
RONGCHENG_TABLE = {
    "traffic_offence": -5,
    "bank_arrears": -10,
    "contract_duty_failure": -20,
    "contract_breach_judgment": -50,
    "private_lending_breach": -20,
    "illegal_fundraising": -40,
    "commercial_fraud": -30,
    "fake_goods": -30,
    "late_public_fees": -20,
    "utility_arrears_judgment": -50,
    "heating_tapping": -50,
    "utility_theft": -60,
    "utility_vandalism": -100,
}
# Row C4 / S1: company behaviours [001].
COMPANY = {
    "tax_paid_on_time": False,
    "late_tax": True,
    "administrative_fine": True,
    "regulatory_penalty": True,
    "court_judgment_company": True,
}
ADULT_ONLY = [
    "bank_arrears",
    "contract_breach_judgment",
    "traffic_offence",
    "drunk_driving",
    "good_credit_record",
    "frivolous_purchase",
]
FACTORS = {
    "credit history",
    "behaviour and preferences",
    "ability to fulfil obligations",
    "identity traits",
    "connections",
}


def _catalogue() -> dict[str, dict[str, Any]]:
    return {b["name"]: b for b in load_pack("catalogue")["behaviours"]}


def _points(pack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["behaviour"]: row for row in pack["points"]}


def _grades(pack: dict[str, Any]) -> list[tuple[str, int]]:
    return [(g["grade"], g["min"]) for g in pack["grades"]]


# -- every pack loads, every table sourced ----------------------------------------------------


def test_the_standard_packs_are_built_in() -> None:
    assert {"catalogue", *SCHEME_PACKS} <= set(builtin_packs())


@pytest.mark.parametrize("name", sorted(builtin_packs()))
def test_every_builtin_pack_loads_with_every_table_sourced(name: str) -> None:
    data = load_pack(name)
    assert data["name"] == name
    assert data.get("about")


def _scenario_with(scheme: str) -> dict[str, Any]:
    """A small scenario on the catalogue with one operator running ``scheme`` (name or path)."""
    return {
        "name": "t",
        "citizens": 10,
        "days": 2,
        "catalogue": "catalogue",
        "population": {},
        "conduct_lognormal_sigma": 0.5,
        "listed_response": {"negative": 1.0, "positive": 1.0},
        "operators": [{"name": "op", "scheme": scheme}],
    }


@pytest.mark.parametrize("name", SCHEME_PACKS)
def test_every_scheme_pack_is_a_valid_operator_scheme(name: str) -> None:
    scheme = validate_scenario(_scenario_with(name), source="t.toml").operators[0].scheme
    assert scheme.name == name
    assert scheme.grades[-1].min == scheme.score.floor


@pytest.mark.parametrize("name", SCHEME_PACKS)
def test_scheme_packs_score_only_catalogue_behaviours_of_their_subject(name: str) -> None:
    catalogue = _catalogue()
    pack = load_pack(name)
    subject = pack.get("subject", "citizen")
    for row in pack["points"]:
        assert row["behaviour"] in catalogue, row["behaviour"]
        assert catalogue[row["behaviour"]].get("subject", "citizen") == subject, row["behaviour"]


# -- built-in scenarios ----------------------------------------------------------------------


@pytest.mark.parametrize("name", SCENARIOS)
def test_builtin_scenario_loads_and_simulates(name: str) -> None:
    scenario = xinyong.load_scenario(name)
    assert scenario.about and scenario.about.split(". ")[0]
    assert scenario.operators
    run = xinyong.simulate(name, citizens=3000, days=30, seed=1)
    with run:
        assert run.summary["days"] == 30
        assert run.summary["events_occurred"] > 0
        assert set(run.summary["operators"]) == {op.name for op in scenario.operators}


def test_rongcheng_scenario_is_rongcheng() -> None:
    s = xinyong.load_scenario("rongcheng")
    assert (s.citizens, s.days) == (740_000, 365)  # Rongcheng's residents [001]
    ops = {op.name: op for op in s.operators}
    assert {op.scheme.name for op in s.operators} == {"rongcheng", "payment-provider", "corporate"}
    city = next(op for op in s.operators if op.scheme.name == "rongcheng")
    assert city.assessment is not None  # data assessed before it counts [004]
    # Court judgments and bank records reach both the city and the provider [001].
    receives = routing(s)
    index = {b.name: i for i, b in enumerate(s.behaviours)}
    provider = next(op for op in s.operators if op.scheme.name == "payment-provider")
    for op in (city, provider):
        row = receives[list(ops).index(op.name)]
        assert row[index["contract_breach_judgment"]], op.name
        assert row[index["bank_arrears"]], op.name


# -- the catalogue ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("names", "harmful"), [(RAISE, False), (LOWER, True), (list(RONGCHENG_TABLE), True)]
)
def test_catalogue_has_every_reported_behaviour_with_a_rate(
    names: list[str], harmful: bool
) -> None:
    catalogue = _catalogue()
    missing = [n for n in names if n not in catalogue]
    assert not missing
    for name in names:
        b = catalogue[name]
        assert 0 < b["p"] < 0.05, name
        assert b["harmful"] is harmful, name
        assert b.get("subject", "citizen") == "citizen", name


def test_catalogue_has_company_behaviours() -> None:
    catalogue = _catalogue()
    for name, harmful in COMPANY.items():
        assert catalogue[name]["subject"] == "company"
        assert catalogue[name]["harmful"] is harmful


def test_catalogue_ages_and_sensors() -> None:
    catalogue = load_pack("catalogue")
    by_name = {b["name"]: b for b in catalogue["behaviours"]}
    for name in ADULT_ONLY:
        assert by_name[name]["min_age"] >= 18, name
    assert by_name["exam_cheating"]["max_age"] <= 30
    sensors = catalogue["sensors"]
    assert {
        "camera",
        "collector",
        "bank",
        "payment",
        "tax",
        "online",
        "police",
        "court",
        "employer",
        "business",
        "library",
        "registry",
        "citizen_reports",
    } <= set(sensors)
    assert len(sensors["camera"]["coverage"]) == 12  # the default population's districts
    assert sensors["collector"]["collectors"]["quota"] > 0
    assert all(b["sensor"] in sensors for b in catalogue["behaviours"])
    # Everyday rates stay plausible: a few events per citizen a month at conduct 1.
    assert sum(b["p"] for b in catalogue["behaviours"] if b.get("subject") != "company") < 0.15


# -- the published figures ----------------------------------------------------------------------


def test_rongcheng_pack_figures() -> None:
    pack = load_pack("rongcheng")
    assert pack["score"] | {"source": None} == {
        "start": 1000,
        "floor": 600,
        "ceiling": 1300,
        "source": None,
    }
    assert _grades(pack) == [("AAA", 1050), ("AA", 1030), ("A", 960), ("B", 850), ("C", 600)]
    assert pack["listed_grade"] == "D"
    assert pack["covers_min_age"] == 18
    assert 730 <= pack["listing"]["min_days"] <= 5 * 365  # 2-5 years [003]
    points = _points(pack)
    for name, value in RONGCHENG_TABLE.items():
        assert points[name]["points"] == value, name
    assert points["contract_breach_judgment"].get("severe") is True
    assert points["heroic_act"]["points"] == 30
    assert all(points[name]["points"] > 0 for name in RAISE if name in points)
    assert pack["overrides"][0]["behaviour"] == "drunk_driving"
    assert pack["overrides"][0]["grade"] == "C"
    assert "Foreign Policy 2018" in pack["overrides"][0]["source"]


def test_pilot_city_pack_figures() -> None:
    pack = load_pack("pilot-city")
    assert pack["score"]["start"] == 100
    assert pack["score"]["ceiling"] == 200
    blood = _points(pack)["blood_donation"]
    assert blood["points"] == 6
    assert "seed 002" in blood["source"]


def test_payment_provider_pack_figures() -> None:
    pack = load_pack("payment-provider")
    assert (pack["score"]["floor"], pack["score"]["ceiling"]) == (350, 950)
    assert _grades(pack) == [
        ("excellent", 700),
        ("very good", 650),
        ("good", 600),
        ("fair", 550),
        ("poor", 350),
    ]
    assert "listing" not in pack
    # Offsets for "ability to pay" use the default population's bands (when the pack has them).
    bands = {k for k in pack.get("start_by_income", {}) if k != "source"}
    assert bands <= {"low", "middle", "high"}
    points = _points(pack)
    assert all(row["factor"] in FACTORS for row in points.values())
    assert points["frivolous_purchase"]["points"] < 0
    assert points["late_bills"]["points"] < 0


def test_corporate_pack_figures() -> None:
    pack = load_pack("corporate")
    assert pack["subject"] == "company"
    points = _points(pack)
    assert points["tax_paid_on_time"]["points"] > 0
    for name in ("late_tax", "administrative_fine", "regulatory_penalty", "court_judgment_company"):
        assert points[name]["points"] < 0, name
    assert points["court_judgment_company"]["severe"] is True
    assert pack["listing"]["min_days"] > 0


# -- refusals ---------------------------------------------------------------------------------


def _broken_copy(tmp_path: Path) -> Path:
    """The rongcheng pack with the source of grade 'A' (grades[2]) removed."""
    text = (Path(builtin_packs()["rongcheng"])).read_text(encoding="utf-8")
    start = text.index('grade = "A"\n')
    line = text.index("source = ", start)
    end = text.index("\n", line) + 1
    path = tmp_path / "broken.toml"
    path.write_text(text[:line] + text[end:], encoding="utf-8")
    return path


def test_a_pack_missing_a_source_is_refused_by_path(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path)
    with pytest.raises(ScenarioError) as err:
        load_pack(path.name, folder=path.parent)
    message = str(err.value)
    assert "broken.toml" in message
    assert "grades[2].source" in message
    assert message.count("\n") == 0  # only the one table


def test_a_pack_missing_a_source_is_refused_as_an_operator_scheme(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path)
    with pytest.raises(ScenarioError, match=r"broken\.toml.*grades\[2\]\.source"):
        validate_scenario(_scenario_with(path.name), source="t.toml", folder=path.parent)


def test_a_pack_is_read_only_from_the_scenario_folder(tmp_path: Path) -> None:
    """Not by a path to anywhere else, nor relative to the current directory."""
    path = _broken_copy(tmp_path)
    inside = tmp_path / "scenarios"
    inside.mkdir()
    for name in (str(path), "../broken.toml", "/etc/passwd", "../../etc/passwd"):
        with pytest.raises(ScenarioError, match="no such pack"):
            validate_scenario(_scenario_with(name), source="t.toml", folder=inside)


def test_an_unknown_pack_lists_the_builtin_packs() -> None:
    with pytest.raises(ScenarioError) as err:
        load_pack("rongchen")
    message = str(err.value)
    for name in builtin_packs():
        assert name in message
    assert "did you mean 'rongcheng'" in message
