"""Scenarios as data: the pydantic models of a city's scheme, and loading them from TOML or JSON.

A scenario holds everything a run needs besides its seed: the score scale, the grade table,
the behaviours and the sensors that observe them, the listing rules and how listed citizens
respond. Built-in scenarios live in ``xinyong/scenarios/<name>.toml``, packs in
``xinyong/packs/``.

Every problem with a file is reported as a :class:`ScenarioError` whose message names the file,
the field, the value and what is allowed, never as a traceback.

Modules:
    models      the pydantic models, field by field, gathered from the modules below.
    base, behaviours, schemes, operators, consequences, response, city
                the models by concept (see :mod:`xinyong.scenario.models`).
    validation  the rules that tie fields together.
    packs       reading files, the built-in packs and scenarios, resolving pack names.
    loading     validate_scenario and load_scenario: raw data or a file in, a Scenario out.
    errors      ScenarioError and its "did you mean".
"""

from __future__ import annotations

from xinyong.scenario.errors import ScenarioError
from xinyong.scenario.loading import load_scenario, validate_scenario
from xinyong.scenario.models import (
    Assessment,
    Behaviour,
    Collectors,
    Consequences,
    ContactsPull,
    DisclosureTier,
    Dissent,
    Escalation,
    Grade,
    GradeOverride,
    HouseholdMix,
    ListedResponse,
    ListingRule,
    ListSpec,
    NetworkSpec,
    NoticeRule,
    Operator,
    OrgRule,
    OrgService,
    PointRule,
    PopulationSpec,
    Response,
    SanctionRule,
    Scenario,
    Scheme,
    ScoreScale,
    Sensor,
    Service,
    SharingRule,
    StartRecords,
)
from xinyong.scenario.packs import builtin_packs, builtin_scenarios, load_pack

__all__ = [
    "Assessment",
    "Behaviour",
    "Collectors",
    "Consequences",
    "ContactsPull",
    "DisclosureTier",
    "Dissent",
    "Escalation",
    "Grade",
    "GradeOverride",
    "HouseholdMix",
    "ListSpec",
    "ListedResponse",
    "ListingRule",
    "NetworkSpec",
    "NoticeRule",
    "Operator",
    "OrgRule",
    "OrgService",
    "PointRule",
    "PopulationSpec",
    "Response",
    "SanctionRule",
    "Scenario",
    "ScenarioError",
    "Scheme",
    "ScoreScale",
    "Sensor",
    "Service",
    "SharingRule",
    "StartRecords",
    "builtin_packs",
    "builtin_scenarios",
    "load_pack",
    "load_scenario",
    "validate_scenario",
]
