"""The city: one simulated day after another, in the order the schemes run.

Each day reads top to bottom as the phases of the reference rules:

    behaviour → observation (and collectors' false reports) → each operator: select, assess,
    ledger, scoring and listing, counterfactual → response (tomorrow's behaviour)

State is columns of NumPy arrays, and each phase costs O(events of the day).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

import numpy as np

from xinyong.engine import parts
from xinyong.engine.accuracy import blacklist_counts
from xinyong.engine.books import Books, operator_counts
from xinyong.engine.day import Kept, Phase, Plan, Today, phase_name
from xinyong.engine.driver import drive
from xinyong.engine.memory import give_back
from xinyong.engine.parts import Block, Group  # here too: older snapshots name them here
from xinyong.engine.tally import Tally, summarize
from xinyong.engine.writer import LedgerStore, LedgerWriter
from xinyong.model.employers import COMPANY
from xinyong.model.lists import JOINS, LEAVES
from xinyong.model.network import SocialNetwork, build_network, contacts_pull
from xinyong.model.operators import routing
from xinyong.model.population import Population, generate_population
from xinyong.model.sensors import Events, withdrawn_mask
from xinyong.primitives.clock import Inline, PhaseClock, Timed
from xinyong.primitives.day import DayResult
from xinyong.primitives.streams import Streams
from xinyong.scenario import Scenario
from xinyong.scenario.change import Change
from xinyong.scenario.loading import checked_timeline
from xinyong.scenario.timeline import behaviour_timeline, changes_by_day, in_force

__all__ = ["Block", "City", "Group"]


class City:
    """A simulated city under one scenario and seed.

    Args:
        scenario: the rules and sizes.
        seed: the seed of every random stream.
        store: where the ledger is written; None keeps no ledger (a comparison twin).
        block: the subjects this city simulates, as one block of a split run (default all).
        threads: score the counterfactual on a second thread, with scratch columns of its
            own; False scores it inline (a worker with one core), sharing them.
    """

    #: The layout of a city's state, as snapshots and checkpoints hold it; a file of another
    #: layout is not read (a live city re-simulates from an older snapshot, or from day 0).
    LAYOUT = 5  # 4: books and tallies moved to engine/, codes to primitives/; 5: each
    # service remembers its own refusals (ServiceUses.remembers)

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        store: LedgerStore | None,
        block: Block | None = None,
        threads: bool = True,
    ) -> None:
        self.layout = City.LAYOUT
        self.scenario = scenario
        self._changes = changes_by_day(scenario)  # the timeline: day -> paths set that day
        self.seed = seed
        self.store = store
        self.n = scenario.citizens
        self.days = scenario.days
        self.day = 0
        self.streams = Streams(seed)
        self.threads = threads
        self._place(block)  # its own subjects and their population
        self._second_core: Executor = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="counterfactual")
            if threads
            else Inline()
        )
        self._draws_core: Executor = self._second_core  # tomorrow's draws, begun in the day
        self._build(self._second_core if threads else None)  # half the first draws there
        self.injected: dict[int, Events] = {}  # citizens' events submitted for a day (live city)
        self.clock: PhaseClock | None = None  # set to time the phases (--profile)
        self.behaviour_alone = False  # a behaviour-only twin's shorter plan (behaviour_only)
        self._observed = Today(0)  # the open day, between observe and judge
        # Citizens' recorded events withdrawn on appeal, by day: (subject, actor, behaviour,
        # nth) keys (live city). They stay in the ledger, flagged, and count nowhere else.
        self.withdrawn: dict[int, list[tuple[int, int, int, int]]] = {}
        # A live city's behaviour-only twin (the chilling effect), a day on with every step;
        # None in a whole run, which runs its twin after the city (records/simulation.py).
        self.twin: City | None = None
        self.books = Books(
            len(scenario.behaviours), len(self.operators), list(scenario.sensors), self.sensor_of
        )

    def _place(self, block: Block | None) -> None:
        """The city's own subjects (a block of a split run, or all) and their population,
        households and organisations, and the social network between them."""
        self.population: Population | None = None
        if self.scenario.population is not None:
            self.population = generate_population(self.scenario.population, self.n, self.streams)
        orgs = self.population.organisations if self.population is not None else 0
        self.block = block or Block(0, self.n, 0, orgs)
        self.whole = self.block == Block(0, self.n, 0, orgs)
        # A block keeps columns for its own subjects alone, numbered from 0 inside; events,
        # the ledger and every draw name subjects by their city-wide ids (own[...]).
        self.own = {
            "citizen": range(self.block.lo, self.block.hi),
            "company": range(self.block.org_lo, self.block.org_hi),
        }
        self.base = {kind: own.start for kind, own in self.own.items()}
        self.total = {"citizen": self.n, "company": orgs}
        self.household_base = 0  # the city-wide id of household 0 here
        self.org_size = np.zeros(0, dtype=np.int64)  # employees of each organisation here
        if self.population is not None:
            employer = self.population.employer
            self.org_size = np.bincount(employer[employer >= 0], minlength=orgs)[
                self.block.org_lo : self.block.org_hi
            ]
        if self.population is not None and not self.whole:
            b = self.block
            if b.hi > b.lo:
                self.household_base = int(self.population.household[b.lo])
            self.population = self.population.block(b.lo, b.hi, b.org_lo, b.org_hi)
        self.network: SocialNetwork | None = None
        if self.scenario.network is not None and self.population is not None:
            self.network = build_network(
                self.population, self.scenario.network.friends, self.streams, self.base["citizen"]
            )

    def _build(self, setup_core: Executor | None) -> None:
        """The city's parts, stage by stage (:mod:`xinyong.engine.parts`), each taking what
        it needs by name; half the first draws are made on ``setup_core``, if given."""
        setting = parts.Setting(
            scenario=self.scenario,
            streams=self.streams,
            days=self.days,
            population=self.population,
            own=self.own,
            total=self.total,
            threads=self.threads,
        )
        self.collectors = parts.collectors(setting)
        conduct = parts.conduct(setting)
        starts = parts.starting(setting, conduct["citizen"])
        self.groups = parts.groups(setting, conduct, starts, self.collectors, setup_core)
        self.operators = parts.operators(setting, self.groups, starts)
        # A warm start's opening listings, with the events that made them (for the ledger).
        self._opening = (
            parts.warm_start(setting, self.groups, self.operators)
            if self.scenario.warm_start
            else []
        )
        self.sensor_of = np.array(
            [list(self.scenario.sensors).index(b.sensor) for b in self.scenario.behaviours],
            dtype=np.int16,
        )
        self.ledger = LedgerWriter.to(self.store) if self.store is not None else None
        self._write_opening()
        self.effects = parts.effects(
            setting,
            self.operators,
            self.groups["citizen"],
            self.network,
            self.sensor_of,
            setup_core,
        )
        if self.threads:
            give_back()  # what the first draws left on the second core's arena
        self.org_gates = parts.org_gates(
            setting, self.operators, self.effects, self.groups, self.org_size
        )

    # -- the day --------------------------------------------------------------------------

    def plan(self) -> Plan:
        """The day's phases in order, the methods themselves, cut where a split run hands
        events over (see :mod:`xinyong.engine.day`); ``print`` shows it."""
        if self.behaviour_alone:
            return Plan((self._timeline, self._behaviour), (self._rescheduling, self._end))
        return Plan(
            (self._timeline, self._behaviour, self._observation),
            (
                self._assessment,
                self._ledger,
                self._scoring,
                self._lists,
                self._consequences,
                self._response,
                self._rescheduling,
                self._end,
            ),
        )

    def step(self) -> DayResult:
        """Simulate the open day: every phase, top to bottom."""
        today = self.observe()
        return self.judge(today.events, today)

    def observe(self) -> Today:
        """The phases before the hand-over: what the city's own subjects do, and what is
        recorded. Events may name subjects another block owns (a misattribution); a split run
        hands each event to its subject's block before :meth:`judge`."""
        today = Today(self.day)
        self._run(today, self.plan().before)
        return today

    def judge(self, events: dict[str, Events], today: Today | None = None) -> DayResult:
        """The phases after the hand-over, on the events about own subjects."""
        if today is None:
            today = self._observed
        today.events = events
        self._run(today, self.plan().after)
        self._observed = Today(self.day)  # the day's working data goes (a city pickles)
        if self.twin is not None:  # a live city's behaviour-only twin keeps up
            self.twin.step()
        assert today.result is not None
        return today.result

    def _run(self, today: Today, phases: tuple[Phase, ...]) -> None:
        self._observed = today
        if self.clock is None:
            for phase in phases:
                phase(today)
            return
        for phase in phases:
            self.clock.phase(phase_name(phase), phase, today)

    def profile(self, clock: PhaseClock) -> None:
        """Time every phase of the coming days on ``clock``, and the work beside them: the
        counterfactual on the second core and the ledger's writer thread."""
        self.clock = clock
        inner = self._second_core
        self._second_core = Timed(inner, clock, "counterfactual (second core)")
        self._draws_core = Timed(inner, clock, "tomorrow's draws (second core)")
        if self.ledger is not None:
            self.ledger.time_on(clock)

    def _timeline(self, today: Today) -> None:
        """0. The scenario's dated changes due today take effect, before anything happens
        (the parts are built from the scenario as written; a change on day 0 acts here too,
        so a change made from Python on a day equals a dated one)."""
        if today.day not in self._changes:
            return
        rules = in_force(self.scenario, today.day)
        for kind, group in self.groups.items():
            group.sensors.retune(rules.sensors)
            mine = [b for b in rules.behaviours if b.subject == kind]
            group.behaviours.retune(today.day, mine, rules.listed_response, group.listed_any)
        if not self.behaviour_alone:  # a behaviour-only twin has no operators to retune
            receives = routing(rules)
            for op, spec in zip(self.operators, rules.all_operators(), strict=True):
                op.retune(today.day, spec, rules, receives[op.index])
        if self.effects is not None:
            self.effects.retune(today.day, rules.consequences)
        today.handled["timeline"] = len(self._changes[today.day])

    def change(self, changes: dict[str, Any], what: str = "", source: str | None = None) -> None:
        """From the open day on, set each path (as ``--set``) to its value: the change is
        added to the scenario's timeline with its day, and acts as a dated change would.

        Raises:
            ScenarioError: a path that names nothing, a field fixed for a run, or a value the
                scenario refuses (nothing is changed).
        """
        change = Change(
            day=self.day, set=dict(changes), what=what or "set from Python", source=source
        )
        timeline = [*self.scenario.timeline, change]
        checked = checked_timeline(self.scenario.model_copy(update={"timeline": timeline}))
        self.follow(checked.timeline)

    def follow(self, timeline: list[Change]) -> None:
        """Take ``timeline`` as the run's, its changes acting from their days on (a live city
        rebuilt from a snapshot older than its latest changes); the behaviour-only twin kept
        beside it takes the changes to what people do. The timeline was checked."""
        self.scenario = self.scenario.model_copy(update={"timeline": list(timeline)})
        self._changes = changes_by_day(self.scenario)
        if self.twin is not None:
            self.twin.follow(behaviour_timeline(self.scenario))

    def _behaviour(self, today: Today) -> None:
        """1. What each subject does today (the pairs whose next occurrence is today)."""
        for group in self.groups.values():
            group.occurred = group.behaviours.occurrences(today.day)
            group.behaviours.draw_ahead(
                today.day, group.occurred, group.listed_any, self._draws_core
            )
        today.handled["behaviour"] = sum(g.occurred.size for g in self.groups.values())

    def _observation(self, today: Today) -> None:
        """2. What the sensors record, with collectors' false reports, submitted events and
        the contacts pull; and what own actors really did (the counterfactual's events)."""
        day = today.day
        for kind, group in self.groups.items():
            recorded = group.sensors.observe(day, group.occurred)
            if kind == "citizen" and self.collectors:
                for sensor, network in self.collectors:
                    network.credit(recorded, self.sensor_of, sensor)
                recorded = Events.concat(
                    [recorded] + [net.fabricate(day) for _, net in self.collectors]
                )
            if kind == "citizen" and day in self.injected:  # events submitted from outside
                recorded = Events.concat([recorded, self.injected.pop(day)])
            if kind == "citizen" and self.network is not None:
                names = [b.name for b in self.scenario.behaviours]
                recorded = Events.concat(
                    [
                        recorded,
                        *contacts_pull(day, self.operators, self.network, names, self.base[kind]),
                    ]
                )
            today.events[kind] = recorded
            # What this block's own subjects really did, wherever it was attributed: the
            # counterfactual's events (a false report has no actor).
            done = recorded.where(recorded.actor >= 0) if self.collectors else recorded
            today.done[kind] = done.local(self.base[kind])
        today.handled["observation"] = sum(len(e) for e in today.events.values())

    def _assessment(self, today: Today) -> None:
        """3. Each operator selects what it scores; its authority's review dismisses some.
        Events withdrawn on appeal are dropped from what was really done, too."""
        day, events = today.day, today.events
        today.local = {kind: e.local(self.base[kind]) for kind, e in events.items()}
        today.dismissed_any = (
            np.zeros(len(events["citizen"]), dtype=bool) if self.effects is not None else None
        )
        today.gone = {
            kind: withdrawn_mask(e, self.withdrawn[day])
            if kind == "citizen" and day in self.withdrawn
            else None
            for kind, e in events.items()
        }
        if today.gone.get("citizen") is not None:
            done = today.done["citizen"]
            today.done["citizen"] = done.where(~withdrawn_mask(done, self.withdrawn[day]))
        for op in self.operators:
            keep = op.keep(today.local[op.subject])
            mine = events[op.subject] if keep is None else events[op.subject].where(keep)
            ours = today.local[op.subject] if keep is None else today.local[op.subject].where(keep)
            dismissed = op.assess(day, mine)  # draws addressed by event: unmoved by withdrawals
            withdrawn = today.gone[op.subject]
            if withdrawn is not None and keep is not None:
                withdrawn = withdrawn[keep]
            if today.dismissed_any is not None and op.subject == "citizen" and dismissed.any():
                counted = dismissed if withdrawn is None else dismissed & ~withdrawn
                today.dismissed_any[np.flatnonzero(keep) if keep is not None else slice(None)] |= (
                    counted
                )
            lost = op.unscored(today.local[op.subject])
            unscored = events[op.subject].where(lost) if lost is not None and lost.any() else None
            today.kept.append(Kept(mine, ours, dismissed, withdrawn, unscored))
        today.handled["assessment"] = today.handled["ledger"] = sum(len(k.mine) for k in today.kept)

    def _ledger(self, today: Today) -> None:
        """4. Every operator's events go to the ledger, dismissed and withdrawn ones flagged, and
        those misattributed to subjects it does not score (flagged unscored)."""
        if self.ledger is None:
            return
        for op, kept in zip(self.operators, today.kept, strict=True):
            self.ledger.append(
                today.day,
                op.index,
                kept.mine,
                op.points[kept.mine.behaviour],
                kept.dismissed,
                kept.withdrawn,
            )
            if kept.unscored is not None:  # not counted; the error-free score credits the actor
                lost = kept.unscored
                none = np.zeros(len(lost), dtype=bool)
                self.ledger.append(
                    today.day, op.index, lost, op.points[lost.behaviour], none, unscored=True
                )

    def _scoring(self, today: Today) -> None:
        """5. Each operator scores its counted events (the counterfactual starts on the
        second core); withdrawn events count as never recorded."""
        for op, kept in zip(self.operators, today.kept, strict=True):
            if kept.withdrawn is not None:
                keep = ~kept.withdrawn
                kept.mine, kept.ours = kept.mine.where(keep), kept.ours.where(keep)
                kept.dismissed = kept.dismissed[keep]
            today.scored.append(
                op.score(
                    today.day, kept.ours, kept.dismissed, today.done[op.subject], self._second_core
                )
            )
        today.handled["scoring"] = sum(s.subject.size for s in today.scored)

    def _lists(self, today: Today) -> None:
        """6. Each operator's lists follow its scores and listings (meanwhile the
        counterfactual finishes on the second core: the day is counted at its end)."""
        for op, scored in zip(self.operators, today.scored, strict=True):
            today.real.append(op.update_lists(today.day, scored))
        for real in today.real:  # who joined and who left a listing or a list
            today.listed += real.listing.listed.size
            today.left += real.listing.released.size
            for _, change, who in real.lists.entries:
                today.listed += who.size if change in JOINS else 0
                today.left += who.size if change in LEAVES else 0
        today.handled["lists"] = today.listed + today.left
        for kind, withdrawn in today.gone.items():
            if withdrawn is not None:
                today.events = {**today.events, kind: today.events[kind].where(~withdrawn)}
                today.local[kind] = today.local[kind].where(~withdrawn)
                if kind == "citizen" and today.dismissed_any is not None:
                    today.dismissed_any = today.dismissed_any[~withdrawn]

    def _end(self, today: Today) -> None:
        """10. The day's end: each operator's day counted, real and error-free (the
        counterfactual had rescheduling's time to finish), with the gates' refusals the
        error-free standings would not have made; the day's result; the day closed."""
        self._count(today)
        counts = np.zeros(len(self.scenario.behaviours), dtype=np.int64)
        for group in self.groups.values():
            group.sensors.count(group.occurred, counts)
        self.books.count_occurred(counts)
        today.result = result = self._result(today)
        if self.operators:
            self.books.count_day(
                today.events,
                len(self.operators),
                result,
                self.collectors != [],
                self.effects.daily[-1] if self.effects is not None and self.effects.daily else None,
            )
        today.handled["end"] = result.recorded
        self.day += 1

    def _count(self, today: Today) -> None:
        """Count each operator's day, real and error-free, once the counterfactual is done;
        and the gates' refusals the error-free standings would not have made."""
        for op, kept, scored, real in zip(
            self.operators, today.kept, today.scored, today.real, strict=True
        ):
            counterfactual = scored.counterfactual.result()
            today.judged.append((op, real, counterfactual))
            self.books.count_operator(
                today.day,
                op,
                real,
                counterfactual,
                kept.mine,
                kept.dismissed,
                self.groups[op.subject].scratch,
            )
        if self.effects is not None and self.effects.services is not None:
            self.effects.services.settle()
        if self.org_gates is not None:
            self.org_gates.settle(
                [
                    j.toggled()
                    for op, real, cf in today.judged
                    if op.subject == "company"
                    for j in (real, cf)
                ]
            )

    def _consequences(self, today: Today) -> None:
        """7. Gates and notices for citizens; organisations at their gates."""
        if self.effects is not None:
            judged = [
                (op, real)
                for op, real in zip(self.operators, today.real, strict=True)
                if op.subject == "citizen"
            ]
            today.acted = self.effects.act(
                today.day,
                judged,
                today.local["citizen"],
                today.dismissed_any,
                beside=self._draws_core,
            )
            today.refused = today.acted.refused.size
            today.handled["consequences"] = self.effects.uses_today
        if self.org_gates is not None:
            org_row = self.org_gates.step(today.day)
            if self.effects is not None and self.effects.daily:
                self.effects.daily[-1].update(org_row)

    def _response(self, today: Today) -> None:
        """8. Citizens respond to what happened to them and around them (from tomorrow)."""
        for group in self.groups.values():  # what follows writes rates tomorrow's draws read
            group.behaviours.drawn()
        if self.effects is not None and today.acted is not None:
            today.responded = self.effects.respond(today.day, today.local["citizen"], today.acted)
            today.handled["response"] = today.responded.size

    def _rescheduling(self, today: Today) -> None:
        """9. The next occurrence of what happened today, and of every behaviour of those
        whose rates changed (listed, or responding)."""
        day = today.day
        for kind, group in self.groups.items():  # listed citizens behave differently tomorrow
            toggled = [
                real.toggled()
                for op, real in zip(self.operators, today.real, strict=True)
                if op.subject == kind
            ]
            flipped = group.update_listed_any(self.operators, toggled)
            if not group.behaviours.listing_matters:
                flipped = flipped[:0]
            if kind == "citizen" and today.responded.size:
                flipped = np.concatenate([flipped, today.responded])
            group.behaviours.reschedule(day, group.occurred, flipped, group.listed_any)
        if self.effects is not None and self.effects.services is not None:
            self.effects.services.reschedule()  # the next uses, drawn beside since the gates
        today.handled["rescheduling"] = today.handled["behaviour"] + int(today.responded.size)

    def _result(self, today: Today) -> DayResult:
        events = today.events.values()
        return DayResult(
            today.day,
            sum(g.occurred.size for g in self.groups.values()),
            sum(len(e) for e in events),
            sum(int(e.misattributed.sum()) for e in events),
            sum(int(e.fabricated.sum()) for e in events),
            today.listed,
            today.left,
            today.refused,
            int(today.responded.size),
        )

    def __getstate__(self) -> dict[str, Any]:
        """A city travels (to a checkpoint, a worker) without its threads and its store, and
        without the events submitted for coming days (a live city replays them from its store,
        and its inbox may add to them while a snapshot is written)."""
        state = self.__dict__.copy()
        state.update(_second_core=None, _draws_core=None, store=None, ledger=None, injected={})
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.setdefault("twin", None)  # a snapshot from before cities kept one
        self.__dict__.update(state)
        self._second_core = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="counterfactual")
            if self.threads
            else Inline()
        )
        self._draws_core = self._second_core

    def inject(self, day: int, citizens: np.ndarray, behaviours: np.ndarray) -> None:
        """Add events submitted from outside (a collector, a court) to a coming day's records.

        They are taken as recorded about the citizen named, who is their actor as far as the
        system knows; they pass through operators, assessment and scoring like any other.
        """
        if day < self.day:
            raise ValueError(f"day {day} is past: the city is at day {self.day}")
        n = citizens.size
        events = Events(
            citizens.astype(np.int64),
            citizens.astype(np.int64),
            behaviours.astype(np.int16),
            np.zeros(n, bool),
            np.zeros(n, bool),
            np.ones(n, bool),
        )
        self.injected[day] = (
            Events.concat([self.injected[day], events]) if day in self.injected else events
        )

    def _write_opening(self) -> None:
        """Write a warm start's opening events to the ledger, once, before day 0's."""
        if self.ledger is None or self.day != 0:
            return
        for trace in self._opening:
            self.ledger.append(
                trace.day,
                trace.operator,
                trace.events,
                trace.points,
                np.zeros(len(trace.events), dtype=bool),
            )
        self._opening = []

    def attach(self, store: LedgerStore) -> None:
        """Start writing the ledger of the coming days to a store (after a rebuild)."""
        self.store = store
        self.ledger = LedgerWriter.to(store)
        self._write_opening()

    def write_ledger(
        self, sink: Callable[[dict[str, np.ndarray]], None], threads: bool = True
    ) -> None:
        """Write the ledger of the coming days to ``sink`` (a block's Parquet files), on a
        thread of its own or, with ``threads=False``, in the simulating thread."""
        self.ledger = LedgerWriter(sink, in_background=threads)
        self._write_opening()

    def behaviour_only(self) -> None:
        """Make this city simulate what subjects do, and nothing else: exact for a city where
        nothing the system records acts back on behaviour (no listed response, no
        consequences), which is the twin the chilling effect is measured against. Its plan is
        three phases: behaviour, rescheduling and the day's end."""
        s = self.scenario
        if (
            s.listed_response.negative != 1.0
            or s.listed_response.positive != 1.0
            or s.response is not None
            or s.consequences is not None
        ):
            raise ValueError(
                "behaviour alone is exact only without a listed response, responses or consequences"
            )
        self.behaviour_alone = True
        self.operators, self.ledger = [], None  # nothing is recorded, scored or written

    def run_behaviour_only(self) -> None:
        """Simulate every remaining day of what subjects do, and nothing else (see
        :meth:`behaviour_only`)."""
        self.behaviour_only()
        self.run()

    def run(self, progress: Callable[[int], None] | None = None) -> City:
        """Simulate every remaining day, calling ``progress(day)`` after each."""
        drive([self], self.days, progress=progress)
        if self.clock is not None:
            self.clock.time("finish (ledger flushed)", self.finish)
        else:
            self.finish()
        return self

    def finish(self) -> None:
        """Close the run: lazy listing days written down, the ledger flushed."""
        for op in self.operators:
            op.standing.finish(self.day - 1)
            op.counterfactual.finish(self.day - 1)
        if self.ledger is not None:
            self.ledger.close()
        self._second_core.shutdown()
        give_back()  # the days' temporaries, before the run's tables are made

    # -- what the day leaves behind -------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """The spec's summary figures (for the first operator) and every operator's own."""
        return summarize(self.scenario, self.seed, self.day, self.tally())

    def tally(self) -> Tally:
        """Everything the summary and the daily series need, as counts over this city's own
        subjects: the tallies of a split run's blocks add up to the whole city's."""
        counts: dict[str, Any] = {
            "totals": dict(self.books.totals),
            "operators": {
                op.name: operator_counts(op, max(self.day - 1, 0)) for op in self.operators
            },
            "collectors": len(self.collectors),
            "blacklists": blacklist_counts(self.scenario, self.operators, len(self.own["citizen"])),
        }
        if self.effects is not None:
            counts["effects"] = self.effects.tally()
        if self.org_gates is not None:
            counts["org_effects"] = self.org_gates.tally()
        if self.population is not None:
            pop = self.population  # this city's own citizens and organisations
            counts["population"] = {
                "households": pop.households,
                "organisations": pop.organisations,
                "companies": int((pop.org_kind == COMPANY).sum()),
                "children": int((pop.age < 18).sum()),
            }
        services = self.effects.services if self.effects is not None else None
        return self.books.tally(
            counts,
            self.twin.occurrences() if self.twin is not None else None,
            services.series() if services is not None else None,
        )

    def occurrences(self) -> np.ndarray:
        """Occurrences per day (rows) and behaviour (columns) so far."""
        return self.books.occurrences()

    @property
    def totals(self) -> dict[str, int]:
        """Behaviours done, events recorded, misattributed and fabricated, so far."""
        return self.books.totals

    @property
    def occurred_by_behaviour(self) -> np.ndarray:
        """Occurrences per behaviour so far."""
        return self.books.occurred_by_behaviour
