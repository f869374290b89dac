"""Cross-field validation: the rules that tie a scenario's fields together (a rule's behaviour,
grade, list, service or operator must exist; scales and terms must fit), each broken rule a
problem that names its field, its value and what is allowed.
"""

from __future__ import annotations

from typing import Any

from xinyong.scenario.consequences import REMEMBERING_SERVICES
from xinyong.scenario.errors import did_you_mean
from xinyong.scenario.models import (
    Behaviour,
    Consequences,
    Grade,
    ListingRule,
    Operator,
    Scenario,
    Scheme,
    ScoreScale,
)
from xinyong.scenario.packs import builtin_packs

__all__ = ["Problem", "consistency_problems"]

Problem = tuple[str, Any, str]


def _scale_problems(
    where: str,
    score: ScoreScale,
    grades: list[Grade],
    listed_grade: str,
    listing: ListingRule | None,
) -> list[Problem]:
    """Rules of a score scale and grade table; ``where`` prefixes the field paths."""
    problems: list[Problem] = []
    lo, hi = score.floor, score.ceiling
    if lo > hi:
        problems.append(
            (f"{where}score.floor", lo, f"the floor must not exceed the ceiling ({hi})")
        )
    if not lo <= score.start <= hi:
        problems.append((f"{where}score.start", score.start, f"scores start within [{lo}, {hi}]"))
    mins = [g.min for g in grades]
    for i in range(1, len(mins)):
        if mins[i] >= mins[i - 1]:
            problems.append(
                (
                    f"{where}grades[{i}].min",
                    mins[i],
                    f"grades go from best to worst with falling minimums; '{grades[i].grade}' "
                    f"must start below '{grades[i - 1].grade}' ({mins[i - 1]})",
                )
            )
    if mins and mins[-1] > lo:
        problems.append(
            (
                f"{where}grades[{len(mins) - 1}].min",
                mins[-1],
                f"a score at the floor ({lo}) would have no grade; "
                f"lower the last grade's min to {lo}",
            )
        )
    names = [g.grade for g in grades]
    for i, name in enumerate(names):
        if name in names[:i]:
            problems.append((f"{where}grades[{i}].grade", name, "each grade name must be unique"))
    if listed_grade in names:
        problems.append(
            (
                f"{where}listed_grade",
                listed_grade,
                "the listed grade must differ from the score grades",
            )
        )
    if listing and not lo <= listing.release_min_score <= hi:
        problems.append(
            (
                f"{where}listing.release_min_score",
                listing.release_min_score,
                f"must be a reachable score, within [{lo}, {hi}]",
            )
        )
    return problems


def _scheme_problems(
    where: str, scheme: Scheme, behaviours: dict[str, Behaviour], income_bands: list[str] | None
) -> list[Problem]:
    problems = _scale_problems(
        where, scheme.score, scheme.grades, scheme.listed_grade, scheme.listing
    )
    seen: set[str] = set()
    for i, rule in enumerate(scheme.points):
        if rule.behaviour in seen:
            problems.append(
                (
                    f"{where}points[{i}].behaviour",
                    rule.behaviour,
                    "each behaviour is given points once",
                )
            )
        seen.add(rule.behaviour)
        if rule.points == 0:
            problems.append((f"{where}points[{i}].points", 0, "points must be non-zero"))
        b = behaviours.get(rule.behaviour)
        if b is None:
            problems.append(
                (
                    f"{where}points[{i}].behaviour",
                    rule.behaviour,
                    f"unknown behaviour{did_you_mean(rule.behaviour, list(behaviours))}; "
                    f"add it to the scenario's behaviours",
                )
            )
        elif b.subject != scheme.subject:
            problems.append(
                (
                    f"{where}points[{i}].behaviour",
                    rule.behaviour,
                    f"a {b.subject} behaviour cannot be scored by a {scheme.subject} scheme",
                )
            )
    grades = [g.grade for g in scheme.grades]
    for i, o in enumerate(scheme.overrides):
        if o.grade not in grades:
            problems.append(
                (
                    f"{where}overrides[{i}].grade",
                    o.grade,
                    f"unknown grade{did_you_mean(o.grade, grades)}; grades: {', '.join(grades)}",
                )
            )
        if o.behaviour not in behaviours:
            problems.append(
                (
                    f"{where}overrides[{i}].behaviour",
                    o.behaviour,
                    f"unknown behaviour{did_you_mean(o.behaviour, list(behaviours))}",
                )
            )
    list_names: list[str] = []
    for i, lst in enumerate(scheme.lists):
        at = f"{where}lists[{i}]"
        if lst.name in list_names:
            problems.append((f"{at}.name", lst.name, "list names must be unique in a scheme"))
        list_names.append(lst.name)
        for name in lst.serious_share:
            if name not in lst.behaviours:
                problems.append(
                    (
                        f"{at}.serious_share.{name}",
                        name,
                        f"not one of the list's behaviours "
                        f"({', '.join(lst.behaviours) or 'none'}); add it there",
                    )
                )
        for j, name in enumerate([*lst.behaviours, *lst.terms]):
            if name not in behaviours:
                field = f"behaviours[{j}]" if j < len(lst.behaviours) else f"terms.{name}"
                problems.append(
                    (
                        f"{at}.{field}",
                        name,
                        f"unknown behaviour{did_you_mean(name, list(behaviours))}",
                    )
                )
        if lst.kind == "red" and lst.min_score is None:
            problems.append((f"{at}.min_score", None, "a red list needs min_score"))
        if lst.kind == "black" and not (lst.behaviours or lst.escalation):
            problems.append(
                (
                    f"{at}.behaviours",
                    [],
                    "a blacklist needs behaviours that trigger it, an escalation, or both",
                )
            )
        if (lst.repair_after_days is None) != (lst.repair_min_score is None):
            problems.append(
                (
                    f"{at}.repair_min_score",
                    lst.repair_min_score,
                    "credit repair needs both repair_after_days and repair_min_score",
                )
            )
        for j, tier in enumerate(lst.tiers):
            for name in tier.behaviours:
                if name not in lst.behaviours:
                    problems.append(
                        (
                            f"{at}.tiers[{j}].behaviours",
                            name,
                            f"not one of the list's behaviours "
                            f"({', '.join(lst.behaviours) or 'none'}); add it there",
                        )
                    )
            if tier.min_days > tier.max_days:
                problems.append(
                    (
                        f"{at}.tiers[{j}].min_days",
                        tier.min_days,
                        f"repair cannot wait longer than the term ({tier.max_days})",
                    )
                )
        if lst.max_term_days is not None:
            longest = max([lst.term_days, *lst.terms.values(), *(t.max_days for t in lst.tiers)])
            if longest > lst.max_term_days:
                problems.append(
                    (
                        f"{at}.max_term_days",
                        lst.max_term_days,
                        f"shorter than the list's own longest term ({longest} days)",
                    )
                )
        if lst.termed_share < 1.0 and not lst.obligation_met_per_year:
            problems.append(
                (
                    f"{at}.termed_share",
                    lst.termed_share,
                    "listings without a term end only when the obligation is met: give the "
                    "list an obligation_met_per_year, or set termed_share = 1",
                )
            )
        if lst.opening_share and lst.kind != "black":
            problems.append(
                (
                    f"{at}.opening_share",
                    lst.opening_share,
                    "only a blacklist starts with a stock; a red list fills itself on day 0",
                )
            )
    for band in scheme.start_by_income:
        if income_bands is None or band not in income_bands:
            problems.append(
                (
                    f"{where}start_by_income.{band}",
                    band,
                    "unknown income band; the population defines: "
                    f"{', '.join(income_bands or ['(no population)'])}",
                )
            )
    return problems


def _consequence_problems(
    s: Scenario, operators: list[str], behaviours: dict[str, Behaviour]
) -> list[Problem]:
    c = s.consequences
    assert c is not None
    problems: list[Problem] = []
    services = [v.name for v in c.services]
    all_ops = s.all_operators()
    lists = {lst.name for op in all_ops for lst in op.scheme.lists}
    reds = {lst.name for op in all_ops for lst in op.scheme.lists if lst.kind == "red"}
    citizen_ops = [op for op in all_ops if op.scheme.subject == "citizen"]
    bands = list(s.population.income_bands) if s.population is not None else []
    remembering = [v.name for v in c.services if v.after_refusal != 1.0]
    if len(remembering) > REMEMBERING_SERVICES:
        problems.append(
            (
                "consequences.services",
                remembering,
                f"at most {REMEMBERING_SERVICES} services may remember refusals (after_refusal "
                f"other than 1), {len(remembering)} do: set after_refusal = 1 where a refusal "
                "changes little",
            )
        )
    for i, service in enumerate(c.services):
        for band in service.by_income:
            if band not in bands:
                why = (
                    f"no income band '{band}' in the population{did_you_mean(band, bands)} "
                    f"(bands: {', '.join(bands)})"
                    if bands
                    else "demand by income needs a [population] with income bands"
                )
                problems.append((f"consequences.services[{i}].by_income", band, why))
    if not c.services and not c.org_services:
        problems.append(
            (
                "consequences.services",
                [],
                "a joint table acts through services: give [[services]] (citizens ask "
                "for them) or [[org_services]] (organisations do)",
            )
        )
    for kind, services_, rules_ in (
        ("services", c.services, c.rules),
        ("org_services", c.org_services, c.org_rules),
    ):
        if services_ and not rules_:
            rules_name = "rules" if kind == "services" else "org_rules"
            problems.append(
                (
                    f"consequences.{rules_name}",
                    [],
                    f"the {kind} check nothing without rules: add [[{rules_name}]]",
                )
            )
    for i, rule in enumerate(c.rules):
        at = f"consequences.rules[{i}]"
        if rule.service not in services:
            problems.append(
                (
                    f"{at}.service",
                    rule.service,
                    f"unknown service{did_you_mean(rule.service, services)}",
                )
            )
        given = sum(
            [
                rule.blacklisted,
                rule.on_list is not None,
                rule.red is not None,
                rule.grades is not None,
                rule.min_score is not None,
                rule.parent_blacklisted,
                rule.parent_red is not None,
                rule.company_blacklisted,
            ]
        )
        if given != 1:
            problems.append(
                (
                    at,
                    rule.what,
                    "give exactly one condition: blacklisted, on_list, "
                    "red, grades, min_score, parent_blacklisted, "
                    "parent_red or company_blacklisted",
                )
            )
        if rule.parent_red is not None and rule.parent_red not in reds:
            problems.append(
                (f"{at}.parent_red", rule.parent_red, "no operator keeps this red list")
            )
        if rule.operator is not None and rule.scheme is not None:
            problems.append((f"{at}.scheme", rule.scheme, "give operator or scheme, not both"))
        if rule.scheme is not None:
            if rule.grades is None and rule.min_score is None:
                problems.append(
                    (
                        f"{at}.scheme",
                        rule.scheme,
                        "a scheme names whose grades or score a rule reads; give "
                        "grades or min_score",
                    )
                )
            running = [o for o in citizen_ops if o.scheme.name == rule.scheme]
            if not running and rule.scheme not in builtin_packs():
                hint = did_you_mean(rule.scheme, sorted(builtin_packs()))
                problems.append((f"{at}.scheme", rule.scheme, f"unknown scheme{hint}"))
            for o in running:
                known = o.scheme.grade_names()
                for g in rule.grades or []:
                    if g not in known:
                        problems.append(
                            (
                                f"{at}.grades",
                                g,
                                f"unknown grade under scheme "
                                f"'{rule.scheme}'"
                                f"{did_you_mean(g, known)}",
                            )
                        )
            continue
        if rule.on_list is not None and rule.on_list not in lists:
            hint = did_you_mean(rule.on_list, sorted(lists))
            problems.append((f"{at}.on_list", rule.on_list, f"no operator keeps this list{hint}"))
        if rule.red is not None and rule.red not in reds:
            problems.append((f"{at}.red", rule.red, "no operator keeps this red list"))
        if rule.grades is not None or rule.min_score is not None:
            op = (
                next((o for o in citizen_ops if o.name == rule.operator), None)
                if rule.operator
                else (citizen_ops[0] if citizen_ops else None)
            )
            if op is None:
                hint = did_you_mean(rule.operator or "", operators)
                problems.append(
                    (f"{at}.operator", rule.operator, f"unknown citizen operator{hint}")
                )
            else:
                known = op.scheme.grade_names()
                for g in rule.grades or []:
                    if g not in known:
                        problems.append(
                            (
                                f"{at}.grades",
                                g,
                                f"unknown grade under '{op.name}'{did_you_mean(g, known)}",
                            )
                        )
    problems += _org_rule_problems(c, all_ops, lists)
    for i, notice in enumerate(c.notices):
        at = f"consequences.notices[{i}]"
        if notice.behaviour is not None and notice.behaviour not in behaviours:
            problems.append((f"{at}.behaviour", notice.behaviour, "unknown behaviour"))
        if notice.on_list not in (None, "*") and notice.on_list not in lists:
            problems.append((f"{at}.on_list", notice.on_list, "no operator keeps this list"))
        if notice.red is not None and notice.red not in reds:
            problems.append((f"{at}.red", notice.red, "no operator keeps this red list"))
    return problems


def _org_rule_problems(c: Consequences, all_ops: list[Operator], lists: set[str]) -> list[Problem]:
    """The organisations' rules: known services, one condition, grades a company scheme has."""
    problems: list[Problem] = []
    services = [v.name for v in c.org_services]
    company_ops = [op for op in all_ops if op.scheme.subject == "company"]
    for i, rule in enumerate(c.org_rules):
        at = f"consequences.org_rules[{i}]"
        if rule.service not in services:
            problems.append(
                (
                    f"{at}.service",
                    rule.service,
                    f"unknown organisation service{did_you_mean(rule.service, services)}; "
                    f"add it to org_services",
                )
            )
        given = sum(
            [
                rule.blacklisted,
                rule.grades is not None,
                rule.rep_on_list is not None,
                rule.rep_blacklisted,
            ]
        )
        if given != 1:
            problems.append(
                (
                    at,
                    rule.what,
                    "give exactly one condition: blacklisted, grades, "
                    "rep_on_list or rep_blacklisted",
                )
            )
        if rule.rep_on_list is not None and rule.rep_on_list not in lists:
            hint = did_you_mean(rule.rep_on_list, sorted(lists))
            problems.append(
                (f"{at}.rep_on_list", rule.rep_on_list, f"no operator keeps this list{hint}")
            )
        if rule.grades is not None and rule.scheme is not None:
            packs = builtin_packs()
            running = [o.scheme for o in company_ops if o.scheme.name == rule.scheme]
            if not running and rule.scheme not in packs:
                hint = did_you_mean(rule.scheme, sorted(packs))
                problems.append((f"{at}.scheme", rule.scheme, f"unknown scheme{hint}"))
            for scheme in running:
                known = scheme.grade_names()
                problems += [
                    (f"{at}.grades", g, f"unknown grade under '{scheme.name}'")
                    for g in rule.grades
                    if g not in known
                ]
            continue
        if rule.grades is not None:
            op = (
                next((o for o in company_ops if o.name == rule.operator), None)
                if rule.operator
                else (company_ops[0] if company_ops else None)
            )
            if op is None and rule.operator is not None:
                problems.append(
                    (
                        f"{at}.operator",
                        rule.operator,
                        "unknown company operator; a grade rule for organisations "
                        "needs an operator whose scheme scores companies",
                    )
                )
            elif op is not None:  # (no company scheme at all: organisations meet no gates)
                known = op.scheme.grade_names()
                problems += [
                    (f"{at}.grades", g, f"unknown grade under '{op.name}'{did_you_mean(g, known)}")
                    for g in rule.grades
                    if g not in known
                ]
    return problems


def _network_problems(s: Scenario) -> list[Problem]:
    """The social circle needs a population; what acts through it needs the circle."""
    problems: list[Problem] = []
    if s.network is not None and s.population is None:
        problems.append(
            (
                "network",
                s.network.friends,
                "a network is drawn over households and neighbourhoods; add [population]",
            )
        )
    if s.response is not None and s.response.contact_listed != 1.0 and s.network is None:
        problems.append(
            (
                "response.contact_listed",
                s.response.contact_listed,
                "a response to blacklisted contacts needs [network]",
            )
        )
    names = [b.name for b in s.behaviours]
    if (
        s.response is not None
        and s.response.dissent is not None
        and s.response.dissent.behaviour not in names
    ):
        problems.append(
            (
                "response.dissent.behaviour",
                s.response.dissent.behaviour,
                f"unknown behaviour{did_you_mean(s.response.dissent.behaviour, names)}",
            )
        )
    for i, op in enumerate(s.operators):
        pull = op.scheme.contacts_pull
        if pull is None:
            continue
        at = f"operators[{i}].scheme.contacts_pull"  # (idle in a city without a network)
        if pull.behaviour not in {p.behaviour for p in op.scheme.points}:
            hint = did_you_mean(pull.behaviour, names)
            problems.append(
                (
                    f"{at}.behaviour",
                    pull.behaviour,
                    f"give the behaviour points in the scheme{hint}",
                )
            )
    return problems


def _shorthand_problems(s: Scenario, check_scale: bool) -> list[Problem]:
    """The top-level score, grades, listed_grade and listing: required in a scenario without
    operators, refused in one with operators (their schemes set them).

    Args:
        s: the scenario.
        check_scale: without operators, also check the scale and grades once all are given
            (the caller's rule: only if no problem was found before).
    """
    problems: list[Problem] = []
    shorthand: dict[str, object] = {
        "score": s.score,
        "grades": s.grades,
        "listed_grade": s.listed_grade,
    }
    if not s.operators:
        for field, value in shorthand.items():
            if not value:  # None, or empty: [] grades, "" listed grade
                said = "is required" if value is None else "must not be empty"
                problems.append(
                    (
                        field,
                        value,
                        f"this field {said} in a scenario without "
                        "operators (or list operators with schemes)",
                    )
                )
        if check_scale and not problems:
            assert s.score and s.grades and s.listed_grade
            problems += _scale_problems("", s.score, s.grades, s.listed_grade, s.listing)
    else:
        for field, value in {**shorthand, "listing": s.listing}.items():
            if value is not None:
                problems.append(
                    (
                        field,
                        value,
                        "a scenario with operators sets this in each "
                        "operator's scheme; remove it here",
                    )
                )
    return problems


def _behaviour_problems(s: Scenario) -> list[Problem]:
    """Each behaviour: a unique name, points or a harmful flag, a known sensor, a subject the
    population has, an age range."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, b in enumerate(s.behaviours):
        if b.name in seen:
            problems.append((f"behaviours[{i}].name", b.name, "behaviour names must be unique"))
        seen.add(b.name)
        if not s.operators and b.points in (None, 0):
            problems.append(
                (
                    f"behaviours[{i}].points",
                    b.points,
                    "points must be non-zero: a behaviour that moves no score is not "
                    "scored; remove it or give it points",
                )
            )
        if s.operators and b.harmful is None:
            problems.append(
                (
                    f"behaviours[{i}].harmful",
                    None,
                    "say whether the behaviour is penalised (true) or rewarded "
                    "(false): with several schemes, points do not tell",
                )
            )
        if b.sensor not in s.sensors:
            problems.append(
                (
                    f"behaviours[{i}].sensor",
                    b.sensor,
                    f"unknown sensor{did_you_mean(b.sensor, list(s.sensors))}; the "
                    f"scenario defines: {', '.join(s.sensors)}",
                )
            )
        if b.subject == "company" and s.population is None:
            problems.append(
                (
                    f"behaviours[{i}].subject",
                    b.subject,
                    "company behaviours need a [population] with companies",
                )
            )
        if b.min_age > b.max_age:
            problems.append(
                (f"behaviours[{i}].min_age", b.min_age, f"must not exceed max_age ({b.max_age})")
            )
    return problems


def _sensor_problems(s: Scenario, districts: int | None) -> list[Problem]:
    """Each sensor's coverage has a share per district; collectors need a population."""
    problems: list[Problem] = []
    for name, sensor in s.sensors.items():
        if sensor.coverage is not None and len(sensor.coverage) != (districts or -1):
            problems.append(
                (
                    f"sensors.{name}.coverage",
                    sensor.coverage,
                    f"give one share per district ({districts or 'no population'})",
                )
            )
        if sensor.collectors is not None and s.population is None:
            problems.append(
                (
                    f"sensors.{name}.collectors",
                    "...",
                    "collectors watch neighbourhoods: add a [population]",
                )
            )
    return problems


def _operator_problems(
    s: Scenario, by_name: dict[str, Behaviour], districts: int | None
) -> list[Problem]:
    """Each operator: a unique name, a consistent scheme, known sensors and districts, and a
    population for a company scheme."""
    problems: list[Problem] = []
    bands = list(s.population.income_bands) if s.population else None
    names: list[str] = []
    for i, op in enumerate(s.operators):
        if op.name in names:
            problems.append((f"operators[{i}].name", op.name, "operator names must be unique"))
        names.append(op.name)
        problems += _scheme_problems(f"operators[{i}].scheme.", op.scheme, by_name, bands)
        kept_elsewhere = {
            lst.name for other in s.operators if other is not op for lst in other.scheme.lists
        }
        for j, name in enumerate(op.national_lists):
            if name not in kept_elsewhere:
                problems.append(
                    (
                        f"operators[{i}].national_lists[{j}]",
                        name,
                        "no other operator keeps a list of this name (a national list "
                        f"replaces it){did_you_mean(name, sorted(kept_elsewhere))}",
                    )
                )
        for j, sensor in enumerate(op.reads or []):
            if sensor not in s.sensors:
                problems.append(
                    (
                        f"operators[{i}].reads[{j}]",
                        sensor,
                        f"unknown sensor{did_you_mean(sensor, list(s.sensors))}",
                    )
                )
        for j, d in enumerate(op.districts or []):
            if districts is None or not 0 <= d < districts:
                problems.append(
                    (
                        f"operators[{i}].districts[{j}]",
                        d,
                        f"no such district; the population has "
                        f"{districts or 'no'} districts, numbered from 0",
                    )
                )
        if op.scheme.subject == "company" and s.population is None:
            problems.append(
                (
                    f"operators[{i}].scheme.subject",
                    "company",
                    "a company scheme needs a [population] with companies",
                )
            )
    return problems


def _response_grade_problems(s: Scenario) -> list[Problem]:
    """The grades the response table names must be the scenario's."""
    problems: list[Problem] = []
    if s.response is not None:
        grades = s.grade_names() if (s.operators or s.grades) else []
        for g in s.response.grade:
            if g not in grades:
                problems.append(
                    (f"response.grade.{g}", g, f"unknown grade{did_you_mean(g, grades)}")
                )
    return problems


def _sharing_problems(
    s: Scenario, names: list[str], by_name: dict[str, Behaviour]
) -> list[Problem]:
    """Each sharing rule: known operators at both ends, known behaviours."""
    problems: list[Problem] = []
    for i, rule in enumerate(s.sharing):
        for field, name in (("from", rule.from_), ("to", rule.to)):
            if name not in names:
                problems.append(
                    (
                        f"sharing[{i}].{field}",
                        name,
                        f"unknown operator{did_you_mean(name, names)}; operators: "
                        f"{', '.join(names) or '(none)'}",
                    )
                )
        for j, b in enumerate(rule.behaviours or []):
            if b not in by_name:
                problems.append(
                    (
                        f"sharing[{i}].behaviours[{j}]",
                        b,
                        f"unknown behaviour{did_you_mean(b, list(by_name))}",
                    )
                )
    return problems


def consistency_problems(s: Scenario) -> list[Problem]:
    """Cross-field rules pydantic's per-field checks cannot see, as (field, value, reason)."""
    problems: list[Problem] = _network_problems(s)
    problems += _shorthand_problems(s, check_scale=not problems)
    if not s.operators and not (s.score and s.grades and s.listed_grade):
        return problems  # no scheme at all: the rules below read one
    by_name = {b.name: b for b in s.behaviours}
    names = [op.name for op in s.operators]
    districts = s.population.districts if s.population else None
    problems += _behaviour_problems(s)
    problems += _sensor_problems(s, districts)
    problems += _operator_problems(s, by_name, districts)
    if s.consequences is not None:
        problems += _consequence_problems(s, names, by_name)
    problems += _response_grade_problems(s)
    problems += _sharing_problems(s, names, by_name)
    return problems
