"""The model described in the ODD format, and the run's data dictionary, generated from code.

``odd(scenario)`` writes the Overview, Design concepts and Details protocol (Grimm et al.
2020, "The ODD protocol for describing agent-based and other simulation models: a second
update", JASSS 23(2) 7) as Markdown, from the scenario and its packs: every parameter appears
with its value and the source its table names, so the description cannot drift from the code.
``data_dictionary(run)`` lists every table and column of a run with its meaning, unit and
labels.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pandas as pd

from xinyong.primitives.codes import (
    FLAG_COLUMNS,
    ListChange,
    ListingChange,
    ListingReason,
    Notice,
    flag_meanings,
    labels,
)
from xinyong.scenario import Operator, Scenario

__all__ = ["COLUMNS", "data_dictionary", "markdown_html", "odd", "parameter_rows"]

_NAMES = ("name", "grade", "behaviour", "service", "kind", "sensor", "list")


#: What the ODD says of a value no table gives a source for (a scenario file of one's own).
NOT_STATED = "not stated in the scenario"


def parameter_rows(node: Any, path: str = "", source: str = "") -> list[tuple[str, str, str]]:
    """Every parameter under ``node`` as (path, value, source), the source being the value's
    own in its table's ``sources`` (the scenario's top level), else the nearest ``source`` of
    the tables that hold it. Names label the rows (``behaviours[jaywalking].p``) and are not
    parameters themselves."""
    if isinstance(node, dict):
        source = node.get("source") or source
        each = node.get("sources")
        own: dict[str, Any] = each if isinstance(each, dict) else {}
        rows = []
        for key, value in node.items():
            if key in ("source", "sources", "about", "name"):
                continue
            where = f"{path}.{key}" if path else str(key)
            rows += parameter_rows(value, where, own.get(key) or source)
        return rows
    if isinstance(node, list) and node and all(isinstance(v, dict) for v in node):
        rows = []
        for i, item in enumerate(node):
            label = next((str(item[k]) for k in _NAMES if isinstance(item.get(k), str)), str(i))
            rows += parameter_rows(item, f"{path}[{label}]", source)
        return rows
    if node is None or node == [] or node == {}:
        return []
    return [(path, _value(node), source or NOT_STATED)]


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    return str(value)


def _table(rows: list[tuple[str, str, str]]) -> list[str]:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    return [
        "| parameter | value | source |",
        "|---|---|---|",
        *(f"| `{cell(p)}` | {cell(v)} | {cell(s)} |" for p, v, s in rows),
        "",
    ]


def odd(scenario: Scenario) -> str:
    """The ODD description of a scenario, as Markdown: it says only what this scenario does
    (no households, sanctions or responses where it has none), and every parameter with its
    source."""
    data = scenario.model_dump()
    ops = scenario.all_operators()
    return "\n".join(
        [
            *_overview(scenario, ops),
            *_design_concepts(scenario, ops),
            *_details(data, ops, _changed_sources(scenario)),
        ]
    )


def _changed_sources(s: Scenario) -> dict[str, str]:
    """Sources for the values a run changed (its sizes, its ``--set``): a value that differs
    from the built-in scenario of the same name while its source does not is the run's own,
    and its source is for the value it replaced. Path -> the source to show."""
    from xinyong.scenario import builtin_scenarios, load_scenario

    if s.name not in builtin_scenarios():
        return {}
    base = load_scenario(s.name)
    if base == s:
        return {}
    before = {p: (v, src) for p, v, src in _all_rows(base.model_dump(), base.all_operators())}
    out = {}
    for path, value, source in _all_rows(s.model_dump(), s.all_operators()):
        old = before.get(path)
        if old is not None and old[0] != value and old[1] == source:
            out[path] = f"set for this run (the scenario's {old[0]}: {source})"
    return out


def _all_rows(data: dict[str, Any], ops: list[Operator]) -> list[tuple[str, str, str]]:
    """Every parameter row of the ODD's tables."""
    rows = parameter_rows(_initialization(data))
    for _, node in _submodels(data, ops):
        rows += parameter_rows(node)
    return rows


def _has_collectors(s: Scenario) -> bool:
    return any(sensor.collectors is not None for sensor in s.sensors.values())


def _responses(s: Scenario) -> list[str]:
    """What citizens respond to, in words (empty without a response model)."""
    r = s.response
    if r is None:
        return []
    said = [
        (bool(r.grade), "their own grade"),
        (r.sanction_met != 1.0, "being refused at a service"),
        (r.household_listed != 1.0, "a blacklisted relative at home"),
        (r.neighbourhood_listed != 1.0, "many blacklisted neighbours"),
        (r.contact_listed != 1.0, "a blacklisted friend or workmate"),
        (r.near_perk != 1.0, "a perk just above their score"),
        (r.dissent is not None, "the punishment of dissent (self-censorship)"),
    ]
    return [words for on, words in said if on]


def _either_and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _overview(s: Scenario, ops: list[Operator]) -> list[str]:
    """The title and the ODD's Overview: purpose and patterns, entities, process."""
    counted = (
        "listings, grades and refusals" if s.consequences is not None else "listings and grades"
    )
    return [
        f"# Model description: `{s.name}` (ODD protocol)",
        "",
        "Generated by `xinyong describe` from the scenario and its scheme packs; every "
        "parameter is listed with its value and the source its table names (`assumption`: a "
        "modelling choice). Format: Grimm et al. (2020), the ODD protocol, second update.",
        "",
        "## Overview",
        "",
        "### 1. Purpose and patterns",
        "",
        f"{s.about}",
        "",
        "The purpose is to show how a social credit system as publicly reported scores, grades "
        "and lists people, and what its errors do: every run carries an error-free "
        "counterfactual of each scheme (same people, same behaviour, no sensor or assessment "
        f"errors), so wrongful {counted} are counted, not guessed. The "
        "patterns a run is held to are those of `xinyong validate` (the published stock of "
        "the dishonest-debtor list, grade shares, blocked purchases).",
        "",
        "### 2. Entities, state variables and scales",
        "",
        *_entities(s, ops),
        "",
        "### 3. Process overview and scheduling",
        "",
        _process(s, ops),
        "",
    ]


def _process(s: Scenario, ops: list[Operator]) -> str:
    """The day's phases, as this scenario has them."""
    c = s.consequences
    responding = ", and by responses" if s.response is not None else ""
    steps = [
        "behaviour: each citizen does each behaviour with its daily probability, scaled by "
        f"conduct and by the listed response while listed{responding}",
        "observation: sensors detect events and misidentify some actors"
        + (", and collectors file reports (some false)" if _has_collectors(s) else ""),
    ]
    what = "selects the events it reads, " if len(ops) > 1 else ""
    if any(o.assessment is not None for o in ops):
        what += "assesses them (some dismissed on review), "
    shared = "; shared records pass between operators" if s.sharing else ""
    steps.append(
        f"{'each operator' if len(ops) > 1 else 'the operator'}: {what}writes them to the "
        "ledger, scores them (clamped at day end), grades and lists, and does the same for "
        f"its error-free counterfactual{shared}"
    )
    if c is not None:
        acts = []
        if c.services:
            acts.append("services gate citizens on their lists, grades and scores")
        if c.org_services:
            acts.append("organisations' services gate them on their corporate standing")
        if c.notices:
            acts.append("notices are shown")
        steps.append("consequences: " + "; ".join(acts))
    if s.response is not None:
        to = _either_and(_responses(s) or ["nothing"])
        steps.append(f"response: tomorrow's behaviour responds to {to}")
    return (
        "Each day, in this order: "
        + "; ".join(f"({i}) {step}" for i, step in enumerate(steps, 1))
        + "."
    )


def _entities(s: Scenario, ops: list[Operator]) -> list[str]:
    """The ODD's entities, state variables and scales, one list item each."""
    behaviours = s.behaviours
    harmful = sum(s.is_harmful(b) for b in behaviours)
    lists = any(o.scheme.lists for o in ops)
    citizen_ops = [o for o in ops if o.scheme.subject == "citizen"]
    company_ops = [o.name for o in ops if o.scheme.subject == "company"]
    if s.population is None:
        organisations = "- **Organisations**: none in this scenario."
    else:
        scored = (
            f", scored by {', '.join(f'`{o}`' for o in company_ops)}"
            if company_ops
            else " (employers only: no scheme scores them)"
        )
        organisations = f"- **Organisations**: companies and government bodies{scored}."
    space = (
        "Space is districts and neighbourhoods, without coordinates."
        if s.population is not None
        else "There is no space: citizens have no place."
    )
    return [
        f"- **Citizens**: {s.citizens:,}, each with a conduct factor"
        + (
            ", age, district, neighbourhood, income band, household and employer"
            if s.population
            else ""
        )
        + (
            "; under each scheme a score, grade, listing"
            + (" and list memberships" if lists else "")
            + ", real and error-free."
            if citizen_ops
            else "; no scheme scores them."
        ),
        organisations,
        f"- **Operators** ({len(ops)}): " + "; ".join(_operator_entity(o) for o in ops) + ".",
        f"- **Sensors** ({len(s.sensors)}): {', '.join(s.sensors)}.",
        f"- **Behaviours** ({len(behaviours)}): {harmful} the schemes punish, "
        f"{len(behaviours) - harmful} they reward or ignore.",
        f"- **Time**: one step is one day; a run lasts {s.days} days. {space}",
    ]


def _operator_entity(o: Operator) -> str:
    """One operator: its scheme, whom it scores, its scale and its grades."""
    return (
        f"`{o.name}` runs the `{o.scheme.name}` scheme on "
        f"{'citizens' if o.scheme.subject == 'citizen' else 'organisations'}, scale "
        f"{o.scheme.score.floor} to {o.scheme.score.ceiling} from {o.scheme.score.start}, "
        f"grades {', '.join(g.grade for g in o.scheme.grades)} and "
        f"{o.scheme.listed_grade} (listed)"
    )


def _design_concepts(s: Scenario, ops: list[Operator]) -> list[str]:
    """The ODD's Design concepts, as this scenario has them."""
    c = s.consequences
    twin = c is not None or s.response is not None
    responses = _responses(s)
    adaptation = (
        f"citizens respond to {_either_and(responses)} (the response table), and a listed "
        "citizen's daily probabilities change by fixed multipliers (the listed response)"
        if responses
        else "none beyond the listed response: a listed citizen's daily probabilities "
        "change by fixed multipliers"
    )
    sensing = (
        "citizens know their own grade, listing and refusals"
        if responses
        else "citizens sense only their own listing"
    ) + (
        "; operators see only what sensors and collectors record"
        if _has_collectors(s)
        else "; operators see only what sensors record"
    )
    through = ["misattribution (an event pinned on another citizen moves that one's score)"]
    if s.sharing:
        through.append("records shared between operators")
    homes = []
    parents = c is not None and any(r.parent_blacklisted or r.parent_red for r in c.rules)
    if s.population is not None and parents:
        homes.append("a listed parent's sanctions reach a child")
    if s.response is not None and s.response.household_listed != 1.0:
        homes.append("a blacklisted relative makes a citizen careful")
    if homes:
        through.append(f"households ({'; '.join(homes)})")
    if s.network is not None and s.response is not None and s.response.contact_listed != 1.0:
        through.append("friends and workmates (a blacklisted contact makes a citizen careful)")
    if c is not None and c.org_services:
        through.append("legal representatives (a company meets its representative's listing)")
    if _has_collectors(s):
        through.append("information collectors watching their neighbourhood")
    collectives = (
        "households, neighbourhoods, employers, districts" if s.population is not None else "none"
    )
    observation = (
        "the ledger of every event, daily series, list histories, standings real and "
        "error-free, the summary"
        + ("; a twin city without consequences gives the chilling effect" if twin else "")
    )
    return [
        "## Design concepts",
        "",
        "- **Basic principles**: rules and points as published for each scheme (see Details); "
        "listing follows the published list rules, not an algorithm.",
        "- **Emergence**: grade shares, list stocks"
        + (", wrongful listings and the chilling effect" if twin else " and wrongful listings")
        + " arise from individual events and errors.",
        f"- **Adaptation**: {adaptation}.",
        "- **Objectives, learning, prediction**: none; citizens do not optimise their score.",
        f"- **Sensing**: {sensing}.",
        f"- **Interaction**: through {_either_and(through)}.",
        "- **Stochasticity**: every draw has an address (seed, stream, day, block of "
        "citizens), so runs are reproducible and a policy change moves only the draws it "
        "reaches.",
        f"- **Collectives**: {collectives}.",
        f"- **Observation**: {observation}.",
        "",
    ]


def _initialization(data: dict[str, Any]) -> dict[str, Any]:
    """The parameters the ODD's Initialization lists: sizes, conduct and the population."""
    out = {k: data[k] for k in ("citizens", "days", "conduct_lognormal_sigma")}
    out["sources"] = data.get("sources") or {}
    if data.get("population"):
        out["population"] = data["population"]
    return out


def _details(
    data: dict[str, Any], ops: list[Operator], changed: dict[str, str] | None = None
) -> list[str]:
    """The ODD's Details: initialization, input data and one parameter table per submodel.

    Args:
        data: the scenario, dumped.
        ops: the scenario's operators.
        changed: sources for the values a run changed, by path (:func:`_changed_sources`).
    """
    changed = changed or {}

    def table(node: dict[str, Any]) -> list[str]:
        return _table([(p, v, changed.get(p, src)) for p, v, src in parameter_rows(node)])

    opening = any(lst.opening_share for o in ops for lst in o.scheme.lists)
    by = " or ".join(
        words
        for on, words in (
            (any(o.scheme.start_by_income for o in ops), "by income band"),
            (any(o.scheme.start_records is not None for o in ops), "plus a share of records"),
        )
        if on
    )
    by = f"{by}, where a scheme says so" if by else ""
    made = (
        "Citizens are generated from the population parameters below"
        if data.get("population")
        else "Citizens are the given number, each with a conduct factor"
    )
    out = [
        "## Details",
        "",
        "### Initialization",
        "",
        f"{made}; scores start at each scheme's start"
        + (f" ({by})" if by else "")
        + ("; lists with an opening stock start from their steady state" if opening else "")
        + ".",
        "",
        *table(_initialization(data)),
        "### Input data",
        "",
        "None: every population is synthetic; no data about real people is read.",
        "",
        "### Submodels",
        "",
    ]
    for title, node in _submodels(data, ops):
        out += [f"#### {title}", "", *table(node)]
    return out


def _submodels(data: dict[str, Any], ops: list[Operator]) -> list[tuple[str, dict[str, Any]]]:
    """The submodels, as (title, the scenario's tables of it): sensors, behaviours, each
    operator's scheme, then those of sharing, consequences and responses the scenario has."""
    sections = [
        ("Sensors", {"sensors": data["sensors"]}),
        ("Behaviours", {"behaviours": data["behaviours"]}),
    ]
    sections += [(f"Scheme of operator `{o.name}`", {o.name: o.model_dump()}) for o in ops]
    if data.get("sharing"):
        sections.append(("Sharing between operators", {"sharing": data["sharing"]}))
    for key, title in (
        ("consequences", "Consequences: services, rules and notices"),
        ("response", "Responses"),
        ("listed_response", "Response to listing"),
    ):
        if data.get(key):
            sections.append((title, {key: data[key]}))
    return sections


def _either(words: tuple[str, ...] | list[str]) -> str:
    return ", ".join(words[:-1]) + " or " + words[-1]


#: The columns that hold codes or their labels, described from the code tables.
_CODED = {
    **flag_meanings(),
    "flags": "bit flags: " + ", ".join(f"{int(f)} {c}" for f, c in FLAG_COLUMNS.items()),
    "listings.change": "what changed: " + _either(labels(ListingChange)),
    "list_changes.change": "what changed: " + _either(labels(ListChange)),
    "listings.reason": "why listed: "
    + _either([r.label for r in ListingReason])
    + " (null for a release)",
    "notices.kind": _either(labels(Notice)),
}

#: What each column means, with its unit (by column name, or table.column where it differs).
COLUMNS: dict[str, str] = {
    "day": "day of the run, from 0",
    "operator": "the operator (index into `operators`, or its name)",
    "subject": "citizen or organisation id",
    "citizen": "citizen id, from 0",
    "actor": "who really did it (citizen id); differs from subject when misattributed",
    "behaviour": "behaviour (index into `behaviours`, or its name)",
    "sensor": "the sensor that recorded it",
    "points": "points the event moved the score (points)",
    "severe": "a severe event (true/false)",
    "name": "name",
    "scheme": "the scheme the operator runs",
    "p": "daily probability per citizen",
    "detect": "probability an event is detected",
    "misidentify": "probability a detected event is pinned on the wrong person",
    "conduct": "conduct factor (multiplies harmful behaviour rates; lognormal, mean 1)",
    "age": "age (years)",
    "district": "district number",
    "neighbourhood": "neighbourhood number",
    "income_band": "income band",
    "household": "household id",
    "role": "role in the household",
    "employer": "employer (organisation id, -1 without)",
    "covered": "covered by the scheme (true/false); in daily series: citizens covered",
    "score": "score (points)",
    "start": "the starting score (points; from the records where a scheme starts from them)",
    "grade": "grade",
    "listed": "listed with the scheme's listed grade (true/false; in series: citizens)",
    "listing_day": "day listed (-1: not listed)",
    "ever_listed": "listed at least once (true/false; in series: citizens)",
    "counterfactual_score": "the error-free score (points)",
    "counterfactual_grade": "the error-free grade",
    "counterfactual_listed": "listed by the error-free system (true/false; in series: citizens)",
    "mean_score": "mean score of those covered (points)",
    "wrongly_listed": "listed, not listed error-free (citizens)",
    "occurred": "events that happened (events a day)",
    "recorded": "events recorded (events a day)",
    "children_affected": "children sanctioned for a listed parent (children)",
    "occurred_without_consequences": "events in the twin city where "
    "nothing acts on people (events a day)",
    "list": "the list's name",
    "members": "members of the list (subjects)",
    "joined": "subjects put on the list since the first day, repeats included; the opening "
    "stock not counted (subjects, running total)",
    "first_joined": "subjects put on the list for the first time since the first day "
    "(subjects, running total)",
    "performed": "members removed once they met their obligation, since the first day "
    "(subjects, running total)",
    "service": "the service's name",
    "used": "uses of the service asked for (uses a day)",
    "denied": "uses refused at the gate (uses a day)",
    "counted": "events counted (events a day)",
    "share": "share of those covered in the grade (fraction)",
    "counterfactual": "a change of the error-free system (true/false)",
    "change": "what changed",
    "reason": "why",
    "kind": "kind",
    "since": "day joined",
    "until": "day the term ends (-1: open)",
    "repeats": "times the term was extended",
    "counterfactual_member": "on the list in the error-free system too (true/false)",
    "organisation": "organisation id",
    "legal_rep": "legal representative (citizen id)",
    "key": "setting",
    "value": "its value",
    "notices.list": "the list whose joining caused the notice: a list's "
    "name, or OPERATOR:listing for a scheme's own listing (null for a billboard, which shows "
    "an event)",
    "notices.behaviour": "the behaviour a billboard shows (behaviour id; -1: none)",
    "memberships.kind": "black (sanctions) or red (rewards)",
    "organisations.kind": "company or government",
    **_CODED,
}
_PATTERNS = (
    (r"share_(.+)", "share of those covered in grade {0} (fraction)"),
    (r"recorded_(.+)", "events recorded by the {0} sensor (events a day)"),
    (r"denied_(.+)", "citizens denied at {0} (denials a day)"),
    (r"count_(.+)", "citizens in grade {0}"),
)


def describe_column(table: str, column: str) -> str:
    """What a column means, with its unit."""
    found = COLUMNS.get(f"{table}.{column}") or COLUMNS.get(column)
    if found:
        return found
    for pattern, text in _PATTERNS:
        m = re.fullmatch(pattern, column)
        if m:
            return text.format(*m.groups())
    return ""


def data_dictionary(run: Any) -> pd.DataFrame:
    """Every table and column of a run: table, column, type, meaning (with unit) and labels."""
    frame = run.query(
        'SELECT table_name AS "table", column_name AS "column", '
        "data_type AS type FROM duckdb_columns() WHERE NOT internal "
        "ORDER BY table_name, column_index"
    )
    bands = list(run.scenario.population.income_bands) if run.scenario.population else []
    frame["meaning"] = [
        describe_column(t, c) for t, c in zip(frame["table"], frame["column"], strict=True)
    ]
    labelled = {
        "income_band": "; ".join(f"{i} = {b}" for i, b in enumerate(bands)),
        "flags": "; ".join(f"{int(f)} = {c}" for f, c in FLAG_COLUMNS.items()),
    }
    frame["labels"] = [labelled.get(c, "") for c in frame["column"]]
    return frame


def markdown_html(text: str) -> str:
    """A small Markdown subset (headings, lists, tables, code, paragraphs) as HTML."""

    def inline(s: str) -> str:
        s = html.escape(s)
        s = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", s)
        return re.sub(r"`(.+?)`", r"<code>\1</code>", s)

    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if m := re.match(r"(#{1,6}) (.*)", line):
            level = min(len(m.group(1)) + 1, 6)  # the report's page has its own h1
            out.append(f"<h{level}>{inline(m.group(2))}</h{level}>")
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                if not lines[i].startswith("|---"):
                    cells = re.split(r"(?<!\\)\|", lines[i].strip().strip("|"))
                    rows.append(
                        "".join(
                            f"<td>{inline(c.strip().replace(chr(92) + '|', '|'))}</td>"
                            for c in cells
                        )
                    )
                i += 1
            out.append("<table>" + "".join(f"<tr>{r}</tr>" for r in rows) + "</table>")
            continue
        elif line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(f"<li>{inline(lines[i][2:])}</li>")
                i += 1
            out.append("<ul>" + "".join(items) + "</ul>")
            continue
        elif line.strip():
            out.append(f"<p>{inline(line)}</p>")
        i += 1
    return "\n".join(out)
