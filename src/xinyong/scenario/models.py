"""The pydantic models of a scenario: a city's people, sensors, behaviours and the schemes that
score them, field by field, with the bounds each field must keep.

A model checks its own fields; rules that tie fields together (a grade a rule names must
exist) are in :mod:`xinyong.scenario.validation`.

The models live in modules of one concept each; this module gathers them under the path they
always had, so ``from xinyong.scenario.models import X`` keeps working and cities pickled
before the split (snapshots and checkpoints name ``xinyong.scenario.models.X``) still load.

Modules:
    base          the strict base model and the probability field types.
    behaviours    what people do and what records it: behaviours, sensors, collectors.
    schemes       score scales, grades, points, overrides, listing rules and lists.
    operators     who runs a scheme, the review of its records, the sharing between operators.
    consequences  services, the joint rewards and sanctions, public notices.
    response      how people respond: the listed, the response table, dissent.
    city          population, households, network, and the Scenario itself.
"""

from __future__ import annotations

from xinyong.scenario.base import DailyProbability as DailyProbability
from xinyong.scenario.base import Probability as Probability
from xinyong.scenario.base import _Model as _Model
from xinyong.scenario.behaviours import Behaviour, Collectors, Sensor
from xinyong.scenario.city import HouseholdMix, NetworkSpec, PopulationSpec, Scenario
from xinyong.scenario.consequences import Action as Action
from xinyong.scenario.consequences import (
    Consequences,
    NoticeRule,
    OrgRule,
    OrgService,
    SanctionRule,
    Service,
)
from xinyong.scenario.operators import Assessment, Operator, SharingRule
from xinyong.scenario.response import Dissent, ListedResponse, Response
from xinyong.scenario.schemes import (
    ContactsPull,
    DisclosureTier,
    Escalation,
    Grade,
    GradeOverride,
    ListingRule,
    ListSpec,
    PointRule,
    Scheme,
    ScoreScale,
    StartRecords,
)

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
    "Scheme",
    "ScoreScale",
    "Sensor",
    "Service",
    "SharingRule",
    "StartRecords",
]
