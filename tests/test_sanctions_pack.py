"""The joint rewards and sanctions pack (packs/sanctions.toml) and the Rongcheng city that uses it.

Every reward and every sanction that shared/spec/system.md lists is a rule or a notice of the
pack (the mapping below is the data of that claim); the pack and the Rongcheng lists load with
every table sourced; a small Rongcheng run refuses the blacklisted at the ticket office, rewards
model citizens, writes notices of several kinds and chills penalised behaviour [E1-E3, S2].
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import xinyong
from xinyong.primitives.codes import UNTIL_MET
from xinyong.scenario import load_pack, load_scenario

SYSTEM_MD = Path(__file__).resolve().parents[2] / "shared" / "spec" / "system.md"

TOP_GRADES = {"AAA", "AA"}  # rewards: the red list or these grades under 'city'
LOW_GRADES = {"C", "D"}  # sanctions: a blacklist, a low grade, or a blacklisted parent

# One expected row: ("rule", service, allowed actions, words of `what`) or ("notice", kind, list
# it reacts to, None) or ("engine", ...) for what the engine writes itself.
Row = tuple[str, str, Any, str | None]
REWARD, SANCTION = {"priority", "discount", "waive"}, {"deny", "restrict"}

# "Rewards for high scores", phrase by phrase (system.md splits them with "; ").
REWARDS: dict[str, list[Row]] = {
    "Priority for school admissions and jobs": [
        ("rule", "university", {"priority"}, "priority for school admissions"),
        ("rule", "school", {"priority"}, "priority for school admissions"),
        ("rule", "employer_gov", {"priority"}, "priority for jobs"),
    ],
    "easy cash loans and consumer credit": [
        ("rule", "bank_loan", {"priority"}, "easy cash loans and consumer credit")
    ],
    "good bank lending rates": [
        ("rule", "bank_loan", {"discount"}, "good bank lending rates"),
        ("rule", "mortgage", {"discount"}, "good bank lending rates"),
    ],
    "cheaper public transport": [
        ("rule", "public_transport", {"discount"}, "cheaper public transport")
    ],
    "free gym": [("rule", "gym", {"waive"}, "free gym")],
    "shorter hospital waits": [("rule", "hospital", {"priority"}, "shorter hospital waits")],
    "faster promotion": [("rule", "promotion", {"priority"}, "faster promotion")],
    "priority for public housing": [
        ("rule", "public_housing", {"priority"}, "priority for public housing")
    ],
    "tax breaks": [("rule", "tax_office", {"discount"}, "tax breaks")],
    "discounts": [("rule", "shops", {"discount"}, "discounts")],
    "electricity and other bill savings": [
        ("rule", "utilities", {"discount"}, "electricity and other bill savings")
    ],
    "deposits waived": [
        ("rule", "bike_rental", {"waive"}, "deposit waived"),
        ("rule", "hotel", {"waive"}, "deposit waived"),
    ],
    "easier matchmaking on dating sites": [("rule", "dating", {"priority"}, "easier matchmaking")],
    'picture on a poster or billboard of "civilized families"': [
        ("notice", "poster", "model-citizens", None),
        ("notice", "civilized_family", "model-citizens", None),
    ],
}

# "Sanctions for low scores and listings", phrase by phrase.
SANCTIONS: dict[str, list[Row]] = {
    "No plane or train tickets": [
        ("rule", "air", {"deny"}, "no plane tickets"),
        ("rule", "rail", {"deny"}, "no high-speed train tickets"),
    ],
    "no hotel rooms": [("rule", "hotel", {"deny"}, "no hotel rooms")],
    "no luxury goods": [("rule", "luxury_shop", {"deny"}, "no luxury goods")],
    "no renting offices": [("rule", "office_rental", {"deny"}, "no renting offices")],
    "mortgage refused": [("rule", "mortgage", {"deny"}, "mortgage refused")],
    "denial of licences and permits": [
        ("rule", "licensing", {"deny"}, "denial of licences and permits")
    ],
    "hindered social services": [
        ("rule", "social_services", {"restrict", "deny"}, "hindered social services")
    ],
    "less credit": [("rule", "bank_loan", {"restrict"}, "less credit")],
    "no government jobs": [("rule", "employer_gov", {"deny"}, "no government jobs")],
    "no private schools for the children, university entry refused": [
        ("rule", "private_school", {"deny"}, "no private schools for the children"),
        ("rule", "university", {"deny"}, "university entry refused"),
    ],
    "public shaming on TV and LED screens, billboards at crossings with photo, name and ID, "
    "names on official websites": [
        ("notice", "tv", "*", None),
        ("notice", "billboard", "jaywalking", None),
        ("notice", "published_list", "*", None),
    ],
    'a dial tone telling callers "the person you are calling is a dishonest debtor"': [
        ("notice", "dial_tone", "dishonest-debtors", None),
        ("rule", "phone", {"restrict"}, "the person you are calling is a dishonest debtor"),
    ],
    "slower internet": [("rule", "internet", {"restrict"}, "slower internet")],
    "frozen accounts and cards": [("rule", "bank_account", {"deny"}, "frozen accounts and cards")],
    "pets removed": [("rule", "pets", {"deny"}, "pets removed")],
    'the message "You are discredited" when booking': [("engine", "deny", None, None)],
}

SERVICES = {
    "rail",
    "air",
    "hotel",
    "school",
    "private_school",
    "university",
    "bank_loan",
    "mortgage",
    "bank_account",
    "employer_gov",
    "promotion",
    "public_housing",
    "hospital",
    "utilities",
    "internet",
    "luxury_shop",
    "shops",
    "licensing",
    "office_rental",
    "social_services",
    "dating",
    "gym",
    "public_transport",
    "tax_office",
    "bike_rental",
    "pets",
    "phone",
}


@pytest.fixture(scope="module")
def pack() -> dict[str, Any]:
    from xinyong.scenario.packs import _with_included

    # as a scenario takes it: with the tables of the packs it includes (travel, org-gates)
    return _with_included(load_pack("sanctions"), "pack 'sanctions'", None)


@pytest.fixture(scope="module")
def lists() -> dict[str, dict[str, Any]]:
    return {lst["name"]: lst for lst in load_pack("rongcheng")["lists"]}


@pytest.fixture(scope="module")
def run() -> Iterator[xinyong.Run]:
    with xinyong.simulate("rongcheng", citizens=20_000, days=120, seed=1) as r:
        yield r


# -- the pack ---------------------------------------------------------------------------------


def test_the_pack_loads_with_every_table_sourced(pack: dict[str, Any]) -> None:
    assert pack["name"] == "sanctions" and pack["about"] and pack["source"]
    for table in ("services", "rules", "notices"):
        assert pack[table], table
        for i, row in enumerate(pack[table]):
            assert row.get("source"), f"{table}[{i}]"


def test_the_services_at_the_point_of_service(pack: dict[str, Any]) -> None:
    services = {s["name"]: s for s in pack["services"]}
    assert set(services) >= SERVICES
    for name, s in services.items():
        assert 0 < s["uses_per_year"] <= 365, name
        assert s.get("min_age", 18) <= s.get("max_age", 200), name
        assert s["title"], name
    for name in ("school", "private_school"):  # children's places
        assert services[name]["max_age"] <= 17
    assert (services["university"]["min_age"], services["university"]["max_age"]) == (17, 19)
    assert services["hospital"]["min_age"] == 0


def test_rules_use_the_conditions_that_fit(
    pack: dict[str, Any], lists: dict[str, dict[str, Any]]
) -> None:
    conditions = (
        "blacklisted",
        "on_list",
        "red",
        "grades",
        "min_score",
        "parent_blacklisted",
        "parent_red",
        "company_blacklisted",
    )
    for i, rule in enumerate(pack["rules"]):
        given = [c for c in conditions if rule.get(c) not in (None, False)]
        assert len(given) == 1, (i, rule["what"])
        if rule.get("scheme"):  # another scheme's perks, its own ban (its listed grade), or
            # the pilot city's restrictions for its low grades and listed [002]
            assert rule.get("operator") is None, rule["what"]
            low = rule["scheme"] == "pilot-city" and set(rule.get("grades") or []) == {
                "C",
                "D",
                "listed",
            }
            assert (
                rule["action"] in REWARD
                or rule.get("grades") == ["banned"]
                or (rule["action"] == "restrict" and low)
            ), rule["what"]
            continue
        if rule.get("grades"):
            assert rule.get("operator") == "city", rule["what"]
        if rule["action"] in REWARD:  # the red list (the rule's citizen's or a parent's)
            fits = "model-citizens" in (rule.get("red"), rule.get("parent_red")) or (
                bool(rule.get("grades")) and set(rule["grades"]) <= TOP_GRADES
            )
        else:  # a blacklist, the listing, a low grade, or a blacklisted parent
            on_black = (
                rule.get("on_list") in lists
                and lists[rule["on_list"]].get("kind", "black") == "black"
            )
            fits = bool(
                rule.get("blacklisted")
                or rule.get("parent_blacklisted")
                or on_black
                or rule.get("company_blacklisted")
                or (rule.get("grades") and set(rule["grades"]) <= LOW_GRADES)
            )
        assert fits, rule["what"]
    for notice in pack["notices"]:
        for name in (notice.get("on_list"), notice.get("red")):
            assert name in (None, "*") or name in lists, name


@pytest.mark.parametrize(
    ("phrase", "rows", "kind"),
    [(p, r, "reward") for p, r in REWARDS.items()]
    + [(p, r, "sanction") for p, r in SANCTIONS.items()],
)
def test_every_reported_reward_and_sanction_is_a_row(
    pack: dict[str, Any], phrase: str, rows: list[Row], kind: str
) -> None:
    for what, name, expected, words in rows:
        if what == "rule":
            assert expected <= (REWARD if kind == "reward" else SANCTION)
            found = [
                r
                for r in pack["rules"]
                if r["service"] == name
                and r["action"] in expected
                and words.lower() in r["what"].lower()
            ]
            assert found, f"{phrase!r}: no {sorted(expected)} rule at {name!r} for {words!r}"
        elif what == "notice":
            found = [
                n
                for n in pack["notices"]
                if n["kind"] == name
                and expected in (n.get("on_list"), n.get("red"), n.get("behaviour"))
            ]
            assert found, f"{phrase!r}: no {name} notice on {expected!r}"
        else:  # "You are discredited" is the engine's answer to any deny
            assert any(r["action"] == "deny" for r in pack["rules"])


def _phrases(heading: str) -> list[str]:
    text = SYSTEM_MD.read_text(encoding="utf-8")
    section = text.split(f"### {heading}", 1)[1].split("###", 1)[0]
    body = " ".join(line.strip() for line in section.splitlines()[1:] if line.strip())
    return [p.strip() for p in body.rstrip(".").split("; ")]


@pytest.mark.skipif(not SYSTEM_MD.is_file(), reason="shared/spec/system.md not present")
@pytest.mark.parametrize(
    ("heading", "mapping"),
    [("Rewards for high scores", REWARDS), ("Sanctions for low scores", SANCTIONS)],
)
def test_the_mapping_covers_every_phrase_of_the_spec(
    heading: str, mapping: dict[str, list[Row]]
) -> None:
    assert _phrases(heading) == list(mapping)


def test_the_header_maps_every_phrase() -> None:
    text = (Path(xinyong.__file__).parent / "packs" / "sanctions.toml").read_text("utf-8")
    header = " ".join(line.lstrip("# ").strip() for line in text.split("\nname = ")[0].splitlines())
    header = re.sub(r"\s+", " ", header).lower()
    for phrase in (
        "priority for school admissions",
        "free gym",
        "deposits waived",
        "no plane or train tickets",
        "frozen accounts and cards",
        "pets removed",
        "you are discredited",
    ):
        assert phrase in header, phrase


# -- the Rongcheng lists and scenario -----------------------------------------------------------


def test_rongcheng_keeps_the_lists_the_table_names(lists: dict[str, dict[str, Any]]) -> None:
    debtors = lists["dishonest-debtors"]
    assert debtors["title"] == "a dishonest debtor" and debtors["kind"] == "black"
    assert set(debtors["behaviours"]) == {  # court judgments: the SPC list's triggers
        "contract_breach_judgment",
        "private_lending_breach",
        "utility_arrears_judgment",
    }
    assert debtors["term_days"] == 730 and 365 <= debtors["repeat_extension_days"] <= 3 * 365
    # As the SPC list: removed once the obligation is met, within 5 years in all [003].
    assert debtors["obligation_met_per_year"] > 0 and debtors["max_term_days"] <= 5 * 366
    assert "repair_min_score" not in debtors
    low = lists["blacklist"]
    assert low["escalation"]["source"] and low["escalation"]["list_after_days"] > 0
    assert 730 <= low["term_days"] <= 5 * 365  # 2-5 years [003]
    red = lists["model-citizens"]
    assert (red["kind"], red["title"], red["min_score"]) == ("red", "a model citizen", 1050)
    assert all(lst["source"] for lst in lists.values())


def test_rongcheng_scenario_validates_with_the_table_and_responses() -> None:
    s = load_scenario("rongcheng")
    assert s.consequences is not None and s.consequences.name == "sanctions"
    assert {v.name for v in s.consequences.services} >= SERVICES
    r = s.response
    assert r is not None
    assert r.grade["D"] < r.grade["C"] < r.grade["B"] < 1
    assert r.sanction_met < 1 and r.household_listed < 1 and r.memory_days > 0
    assert s.operators[0].name == "city"


# -- a small Rongcheng run ------------------------------------------------------------------------


def test_the_blacklisted_are_refused_tickets(run: xinyong.Run) -> None:
    s = run.summary
    decisions = s["gate_decisions"]
    assert decisions["rail"]["deny"] > 0 and decisions["air"]["deny"] > 0
    assert s["gate_denials"] == sum(d.get("deny", 0) for d in decisions.values())
    assert 0 <= s["wrongly_denied"] <= s["gate_denials"]
    assert s["children_affected"] > 0
    assert run.daily["denied_rail"].sum() == decisions["rail"]["deny"]


def test_rewards_are_given(run: xinyong.Run) -> None:
    rewards = run.summary["rewards_given"]
    assert sum(rewards.values()) > 0
    red = run.query("SELECT subject FROM memberships WHERE list = 'model-citizens'")
    if len(red):
        decision = run.gate("hospital", int(red["subject"][0]))
        assert decision.action == "priority" and "Shorter hospital waits." in decision.text


def test_notices_of_several_kinds(run: xinyong.Run) -> None:
    notices = run.summary["notices"]
    assert {"billboard", "tv", "published_list", "dial_tone"} <= set(notices)
    assert notices["tv"] == notices["published_list"]  # both on joining any blacklist


def test_penalised_behaviour_is_chilled(run: xinyong.Run) -> None:
    chilling = run.summary["chilling"]
    catalogue = {b.name: b for b in load_scenario("rongcheng").behaviours}
    common = [n for n, b in catalogue.items() if b.subject == "citizen" and b.p >= 0.002]
    harmful = [n for n in common if catalogue[n].harmful]
    assert len(harmful) >= 8
    assert all(chilling[n] < 0 for n in harmful), {n: chilling[n] for n in harmful}
    assert all(chilling[n] > 0 for n in common if not catalogue[n].harmful)


def test_a_listed_citizen_is_told_why_at_the_ticket_office(run: xinyong.Run) -> None:
    row = run.query(
        "SELECT subject, since, until FROM memberships "
        "WHERE list = 'dishonest-debtors' ORDER BY subject LIMIT 1"
    ).iloc[0]
    decision = run.gate("rail", int(row.subject))
    assert decision.action == "deny"
    assert decision.text.startswith("You are discredited: ")
    term = f"until day {row.until}" if row.until < UNTIL_MET else "until the obligation is met"
    assert (
        f"listed as a dishonest debtor by 'city' since day {row.since}, {term}. "
        "No high-speed train tickets."
    ) in decision.text
    assert run.gate("bank_account", int(row.subject)).action == "deny"
    untermed = run.query(
        f"SELECT subject FROM memberships WHERE list = 'dishonest-debtors' AND until = {UNTIL_MET}"
    )  # most listings have no term (the SPC's item 1): the ticket office says so
    assert len(untermed) > 0
    text = run.gate("rail", int(untermed.subject[0])).text
    assert "until the obligation is met. No high-speed train tickets." in text
    assert "dishonest debtor" in run.gate("phone", int(row.subject)).text
    clean = run.query("""
        SELECT p.citizen FROM population p JOIN standings s ON s.subject = p.citizen
        WHERE s.operator = 0 AND s.grade = 'A' AND p.age BETWEEN 18 AND 64
        AND p.citizen NOT IN (SELECT subject FROM memberships WHERE kind = 'black')
        ORDER BY p.citizen LIMIT 1""")
    allowed = run.gate("rail", int(clean["citizen"][0]))
    assert allowed.action == "allow"
    assert allowed.text.startswith("No rule of this service applies. Checked: ")
    assert "not listed as a dishonest debtor" in allowed.checked  # the SPC list, by name


def test_a_parents_listing_reaches_the_children(run: xinyong.Run) -> None:
    pop = run.query("SELECT citizen, household, role, age FROM population")
    listed = set(run.query("SELECT subject FROM memberships WHERE kind = 'black'")["subject"])
    homes = set(pop[pop.citizen.isin(listed) & (pop.role == 0)].household)
    children = pop[pop.household.isin(homes) & (pop.role == 1) & pop.age.between(6, 17)]
    child = int(children.citizen.iloc[0])
    decision = run.gate("private_school", child)
    assert decision.action == "deny" and "A parent is discredited" in decision.text
    assert run.gate("school", child).action == "restrict"


def test_a_service_whose_rules_read_no_scheme_here_is_not_visited(run: xinyong.Run) -> None:
    decisions = run.summary["gate_decisions"]
    assert not decisions["parking"] and not decisions["library"]  # Xiamen's perks
    assert sum(decisions["rental"].values()) > 0  # the payment provider's, which runs here
