"""Consequences in the running city, in three parts that read one status:

- gates at the point of service (:mod:`xinyong.model.services`): each day's service uses, each a
  gate check under the joint rewards and sanctions table [E1, E2];
- public notices about synthetic citizens (:mod:`xinyong.model.notice_board`) [S3];
- citizens' responses (:mod:`xinyong.model.responses`) [E3], from the next day.

This module builds the status they read (who is blacklisted, real and error-free), keeps the
'blacklisted' column up to date from the day's listing changes, and the starting responses.
"""

from __future__ import annotations

from concurrent.futures import Executor
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from xinyong.model.behaviour import Behaviours
from xinyong.model.gates import Gates, GateStatus, Grades, ListView
from xinyong.model.network import SocialNetwork
from xinyong.model.notice_board import NoticeBoard, notice_lists
from xinyong.model.org_gates import leads_blacklisted
from xinyong.model.responses import Responses
from xinyong.model.sensors import Events
from xinyong.model.services import ServiceUses
from xinyong.primitives.codes import NOTICE_HARMS, NOTICE_KINDS
from xinyong.primitives.day import Acted
from xinyong.primitives.scratch import Scratch
from xinyong.primitives.streams import Streams
from xinyong.scenario import Consequences, Response, Scenario

if TYPE_CHECKING:
    from xinyong.model.operators import Judgement, OperatorState
    from xinyong.model.population import Population

__all__ = [
    "NOTICE_HARMS",
    "NOTICE_KINDS",
    "ConsequenceState",
    "NoticeKind",
    "initial_response",
    "live_status",
    "notice_lists",
]

#: One of NOTICE_KINDS (:mod:`xinyong.primitives.codes`), as a type (the HTTP service's schema
#: lists them).
NoticeKind = Literal[NOTICE_KINDS]  # type: ignore[valid-type]  # codes' tuple: pydantic reads it


def initial_response(
    scenario: Scenario, starts: list[np.ndarray | None], n: int
) -> np.ndarray | None:
    """Each citizen's response factor on day 0, from the grade its starting score earns under
    the first citizen operator (nobody has been refused or listed yet).

    Args:
        scenario: the scenario.
        starts: per operator, its starting scores of the ``n`` citizens
            (:func:`xinyong.model.start.starting_scores`; None: all start at the scale's start).
        n: the number of citizens.
    """
    r = scenario.response
    if r is None:
        return None
    factor = np.ones(n)
    ops = scenario.all_operators()
    first = next((i for i, op in enumerate(ops) if op.scheme.subject == "citizen"), None)
    if not r.grade or first is None:
        return factor
    scheme = ops[first].scheme
    start = starts[first]
    if start is None:
        start = np.full(n, scheme.score.start, dtype=np.int64)
    for g in reversed(scheme.grades):  # worst first, so better grades overwrite
        factor[start >= g.min] = r.grade.get(g.grade, 1.0)
    return factor


def live_status(
    operators: list[OperatorState],
    population: Population | None,
    counterfactual: bool,
    day: int | None = None,
    black: np.ndarray | None = None,
    citizen_base: int = 0,
    org_base: int = 0,
) -> GateStatus:
    """A gate status over the running city's own arrays (no copies).

    Args:
        operators: the city's operators (citizen operators are used).
        population: households, for the children of blacklisted parents.
        counterfactual: read the counterfactual standings and lists instead.
        day: the day grades are read on (grade caps end by day); None: the day each
            standing was last scored, as gates read it during a day.
        black: a per-citizen 'blacklisted' column the caller keeps up to date, if any.
        citizen_base, org_base: the city-wide ids of citizen 0 and organisation 0 here (legal
            representatives are named by city-wide ids).
    """
    views: list[ListView] = []
    grades: Grades = {}
    scores: dict[str, np.ndarray] = {}
    covered: dict[str, np.ndarray | None] = {}
    schemes: dict[str, list[str]] = {}
    for op in operators:
        if op.subject != "citizen":
            continue
        standing = op.counterfactual if counterfactual else op.standing
        book = op.cf_lists if counterfactual else op.lists
        if standing.lists:
            views.append(
                ListView(
                    f"{op.name}:listing",
                    f"grade {op.scheme.listed_grade}",
                    op.name,
                    "scheme",
                    standing.listed,
                    standing.listing_day,
                    None,
                )
            )
        for lst in book.lists:
            if lst.spec.shared:  # services see the lists published on the sharing platform
                views.append(
                    ListView(
                        lst.spec.name,
                        lst.spec.title,
                        op.name,
                        lst.spec.kind,
                        lst.member,
                        lst.since,
                        lst.until,
                    )
                )
        grade_of = standing.grades_now if day is None else partial(standing.grades, day=day)
        grades[op.name] = (grade_of, standing.grade_names)
        scores[op.name] = standing.score
        covered[op.name] = op.covered
        schemes.setdefault(op.scheme.name, []).append(op.name)
    if population is None:
        return GateStatus(
            views, grades, black=black, scores=scores, covered=covered, schemes=schemes
        )
    leads = None
    if population.organisations and any(op.subject == "company" for op in operators):
        leads = leads_blacklisted(operators, population, citizen_base, org_base, counterfactual)
    return GateStatus(
        views,
        grades,
        population.homes,
        black,
        scores=scores,
        covered=covered,
        schemes=schemes,
        age=population.age,
        leads_blacklisted=leads,
    )


class ConsequenceState:
    """Gates, notices and responses for one run: the three parts, and who is blacklisted
    (what all three read), kept from the day's listing changes.

    Args:
        consequences: services, rules and notices.
        response: the response model, or None.
        operators: the city's operators.
        population: the synthetic population (households), or None.
        behaviours: the citizens' behaviour schedule (its response factors are set here).
        ages: citizens' ages (services have age limits), or None.
        streams: the run's random streams.
        days: the horizon.
        behaviour_names: scenario behaviour names (for billboard notices).
        sensor_names: scenario sensor names.
        sensor_of: sensor index per scenario behaviour.
        base: the city-wide id of citizen 0 here (a block's first citizen).
        org_base: the city-wide id of organisation 0 here.
        network: friends and workmates, for the response to a blacklisted contact.
        where: where half of the service uses' first draws are made (default here).

    Attributes:
        services: the service uses and their gates (None without a joint table).
        board: the notices feed (None without notice rules).
        responses: the citizens' responses (None without a response model).
    """

    def __init__(
        self,
        *,
        consequences: Consequences | None,
        response: Response | None,
        operators: list[OperatorState],
        population: Population | None,
        behaviours: Behaviours,
        ages: np.ndarray | None,
        streams: Streams,
        days: int,
        behaviour_names: list[str],
        sensor_names: list[str],
        sensor_of: np.ndarray,
        base: int = 0,
        org_base: int = 0,
        network: SocialNetwork | None = None,
        where: Executor | None = None,
    ) -> None:
        n = behaviours.n
        self.population = population
        self.operators = [op for op in operators if op.subject == "citizen"]
        self.black = np.zeros(n, dtype=bool)  # on a shared blacklist, kept from toggles
        self.status = live_status(operators, population, False, None, self.black, base, org_base)
        self.cf_status = live_status(operators, population, True, None, None, base, org_base)
        self._scratch = Scratch(n)
        self.services = (
            ServiceUses(
                consequences,
                self.operators[0].name,
                self.status,
                self.cf_status,
                n,
                ages,
                population is not None,
                streams,
                days,
                self._scratch,
                base,
                where,
            )
            if consequences is not None and self.operators
            else None
        )
        self.board = (
            NoticeBoard(
                consequences,
                self.operators,
                self.status,
                population,
                ages,
                behaviour_names,
                sensor_names,
                sensor_of,
                self._scratch,
                base,
            )
            if consequences is not None and consequences.notices
            else None
        )
        self.responses = (
            Responses(
                response,
                self.operators,
                self.gates,
                self.status,
                self.black,
                population,
                network,
                behaviours,
                days,
                self._scratch,
            )
            if response is not None
            else None
        )

    @property
    def gates(self) -> Gates | None:
        """The joint table, as gates apply it (None without one)."""
        return self.services.gates if self.services is not None else None

    @property
    def daily(self) -> list[dict[str, Any]]:
        """The gates' row of each day so far (refusals by service, children affected)."""
        return self.services.daily if self.services is not None else []

    @property
    def uses_today(self) -> int:
        """Service uses checked at gates today."""
        return self.services.uses_today if self.services is not None else 0

    # -- the day ---------------------------------------------------------------------------

    def act(
        self,
        day: int,
        judgements: list[tuple[OperatorState, Judgement]],
        events: Events,
        dismissed: np.ndarray | None = None,
        *,
        beside: Executor,
    ) -> Acted:
        """The day's consequences: who is blacklisted now, the gates, and the notices.

        Args:
            day: the day.
            judgements: each citizen operator's real judgement today.
            events: the citizens' recorded events today.
            dismissed: per event, whether some operator's review dismissed it.
            beside: where the next service uses are drawn (the second core, or inline).
        """
        toggled = [j.toggled() for _, j in judgements]
        flipped = np.empty(0, dtype=np.int64)  # citizens who joined or left a blacklist today
        if toggled:
            who = self._scratch.distinct(np.concatenate(toggled))
            now = self.status.any_black(who)
            flipped = who[now != self.black[who]]
            self.black[who] = now
        refused = (
            self.services.check(day, beside) if self.services is not None else np.empty(0, np.int64)
        )
        if self.board is not None:
            self.board.write(day, events, judgements, dismissed)
        return Acted(toggled, flipped, refused)

    def respond(self, day: int, events: Events, acted: Acted) -> np.ndarray:
        """Citizens whose response factor changed today (their behaviour is drawn again)."""
        if self.responses is None:
            return np.empty(0, dtype=np.int64)
        return self.responses.respond(day, events, acted.toggled, acted.flipped, acted.refused)

    # -- results ---------------------------------------------------------------------------

    def notices(self) -> dict[str, np.ndarray]:
        """The notices feed as columns (see :meth:`NoticeBoard.notices`)."""
        if self.board is None:
            return {
                "day": np.empty(0, np.int32),
                "kind": np.empty(0, object),
                "subject": np.empty(0, np.int32),
                "behaviour": np.empty(0, np.int16),
                "list": np.empty(0, object),
            }
        return self.board.notices()

    def tally(self) -> dict[str, Any]:
        """Gate decisions by service and answer, wrongful refusals, children affected and
        notices by kind, as counts that add up across the blocks of a split run."""
        out: dict[str, Any] = {}
        if self.services is not None:
            out.update(self.services.tally())
        elif self.population is not None:
            out["children_affected"] = 0
        if self.board is not None:
            out.update(self.board.tally())
        return out
