"""The live city's records desk: a citizen's record and the notices feed, as of the last
completed day.

A record is read from the copy of the columns made at the end of each day (:func:`frozen`; the
gates read the same copy), so a day being simulated does not hold it up, and the ledger up to
that day through the reading thread's own cursor. Notices are read under the arrays' read lock.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from xinyong.engine.city import City
from xinyong.model.consequences import live_status, notice_lists
from xinyong.model.gates import GateStatus
from xinyong.model.population import citizen_name, identity_number
from xinyong.primitives.codes import FLAG_COLUMNS, NOT_COUNTED, NOTICE_KINDS, UNTIL_MET
from xinyong.records.explain import event_notes
from xinyong.records.ledger import replay_one
from xinyong.records.notices import notice_text
from xinyong.service.appeals import EventId
from xinyong.service.errors import LiveError

if TYPE_CHECKING:
    from xinyong.service.live import LiveCity

__all__ = ["Records", "frozen"]


class Records:
    """Citizens' records and the notices of one live city (``live.records``).

    Args:
        live: the city whose records these are.
    """

    def __init__(self, live: LiveCity) -> None:
        self.live = live

    def record(self, citizen: int) -> dict[str, Any]:
        """A citizen's record: every operator's score, grade and lists, and the ledger with the
        reason for every point; events submitted for the open day are shown as pending.

        The standing is read from the copy made at the end of the last completed day (no
        lock: a day being simulated does not hold it up), the ledger up to the same day; if
        an upheld appeal rewrote history in between (the generation moved), it is read again,
        and while an appeal's new ledger is being committed, under the read lock after it.
        """
        live = self.live
        live.check_citizen(citizen)

        def read() -> dict[str, Any]:
            view = live.view
            return self._with_ledger(self._standing(citizen, view), citizen, view.day)

        return live.locks.consistent(read)

    def _standing(self, citizen: int, view: SimpleNamespace) -> dict[str, Any]:
        """What the city's columns said of a citizen at the end of its last day (``view``:
        :func:`frozen`)."""
        operators = []
        day = view.day
        for op in view.operators:
            st, cf = op.standing, op.counterfactual
            operators.append(
                {
                    "operator": op.name,
                    "scheme": op.scheme.name,
                    "start": self.start(op.index, citizen),
                    "floor": op.scheme.score.floor,
                    "ceiling": op.scheme.score.ceiling,
                    "score": int(st.score[citizen]),
                    "grade": st.grade_names[int(st.grades(np.array([citizen]), day)[0])],
                    "listed": bool(st.listed[citizen]),
                    "listing_day": int(st.listing_day[citizen]) if st.listed[citizen] else None,
                    "counterfactual_score": int(cf.score[citizen]),
                    "counterfactual_listed": bool(cf.listed[citizen]),
                    "lists": [
                        {
                            "list": lst.spec.name,
                            "kind": lst.spec.kind,
                            "since": int(lst.since[citizen]),
                            "until": (
                                int(lst.until[citizen])
                                if lst.spec.kind == "black" and lst.until[citizen] < UNTIL_MET
                                else None  # a red list, or until the obligation is met
                            ),
                            "repeats": int(lst.repeats[citizen]),
                            "error_free": bool(cf_member[citizen]),
                        }
                        for lst, cf_member in zip(op.lists.lists, op.cf_members, strict=True)
                        if lst.member[citizen]
                    ],
                    "error_free_lists": [
                        lst.spec.name
                        for lst, cf_member in zip(op.lists.lists, op.cf_members, strict=True)
                        if cf_member[citizen] and not lst.member[citizen]
                    ],
                    "grade_capped_until": int(st.cap_until[citizen])
                    if st.capped and st.cap_until[citizen] > day
                    else None,
                    "index": op.index,
                }
            )
        pop = view.population
        return {
            "citizen": citizen,
            "name": citizen_name(citizen) if pop is not None else None,
            "identity": identity_number(citizen, int(pop.age[citizen]), int(pop.district[citizen]))
            if pop
            else None,
            "day": day,
            "operators": operators,
        }

    def _with_ledger(self, standing: dict[str, Any], citizen: int, day: int) -> dict[str, Any]:
        """The record: the standing with each operator's ledger up to ``day`` and the score
        replayed from it, and the events pending for the open day."""
        live = self.live
        con = live.reader()
        # Plain tuples in the order written (rowid), numbered in Python: a window function and
        # DataFrames cost more than the rest of the record together.
        rows = con.execute(
            "SELECT operator, day, behaviour, actor, rowid, points, flags "
            "FROM ledger_rows WHERE subject = ? AND day < ?",
            [citizen, day],
        ).fetchall()
        rows.sort()
        by_operator: dict[int, list[dict[str, Any]]] = {}
        counted: dict[int, list[tuple[int, int]]] = {}
        nth, previous = 0, None
        for operator, d, behaviour, actor, _, points, flags in rows:
            same = (operator, d, behaviour, actor)
            nth = nth + 1 if same == previous else 0
            previous = same
            event = EventId(d, operator, citizen, actor, behaviour, nth)
            by_operator.setdefault(operator, []).append(
                _event_json(
                    event,
                    live.behaviours[behaviour],
                    live.behaviour_sensor(behaviour),
                    points,
                    flags,
                )
            )
            if not flags & NOT_COUNTED:
                counted.setdefault(operator, []).append((d, points))
        operators = []
        for entry in standing["operators"]:
            entry = dict(entry)
            index = entry.pop("index")
            scale = live.city.operators[index].scheme.score
            entry["replayed_score"] = replay_one(scale, entry["start"], counted.get(index, []))
            entry["ledger"] = by_operator.get(index, [])
            operators.append(entry)
        # Most citizens have nothing pending: the inbox knows which do, without a query.
        pending = (
            con.execute(
                "SELECT client_id, behaviour, submitted_by FROM live_submissions "
                "WHERE day = ? AND citizen = ?",
                [day, citizen],
            ).fetchall()
            if live.inbox.has_pending(day, citizen)
            else []
        )
        return {
            **standing,
            "operators": operators,
            "pending": [
                {"client_id": cid, "behaviour": live.behaviours[int(b)], "submitted_by": by}
                for cid, b, by in pending
            ],
        }

    def start(self, operator: int, citizen: int) -> int:
        """A citizen's starting score under an operator's scheme (as :mod:`xinyong.model.start`
        gave the city)."""
        op = self.live.city.operators[operator]
        return int(op.start[citizen]) if op.start is not None else op.scheme.score.start

    @property
    def notice_lists(self) -> list[str]:
        """The lists a notice can name: each citizen scheme's listing and each list."""
        return notice_lists(self.live.scenario.all_operators())

    def notices(
        self,
        limit: int,
        kind: str | None = None,
        on_list: str | None = None,
        from_day: int | None = None,
        to_day: int | None = None,
    ) -> list[dict[str, Any]]:
        """The latest notices, newest first: of one kind, caused by one list, between two
        days (inclusive), if given.

        Raises:
            LiveError: 422 for a kind of notice that does not exist, 404 for a list the city
                does not have (the message names them).
        """
        return self.notice_feed(limit, kind, on_list, from_day, to_day)[1]

    def notice_feed(
        self,
        limit: int,
        kind: str | None = None,
        on_list: str | None = None,
        from_day: int | None = None,
        to_day: int | None = None,
        citizen: int | None = None,
    ) -> tuple[int, list[dict[str, Any]]]:
        """How many notices match, and the latest ``limit`` of them (see :meth:`notices`);
        with ``citizen``, those about that citizen alone."""
        if kind is not None and kind not in NOTICE_KINDS:
            raise LiveError(
                422,
                f"{kind[:100]!r} is not a kind of notice: choose one of {', '.join(NOTICE_KINDS)}",
            )
        if on_list is not None and on_list not in self.notice_lists:
            raise LiveError(
                404,
                f"{on_list[:100]!r} is not a list of this city: choose one of "
                f"{', '.join(self.notice_lists) or '(none: it has no lists)'}",
            )
        live = self.live
        with live.locks.reading():
            if live.city.effects is None:
                return 0, []
            feed = live.city.effects.notices()
            pop = live.city.population
        keep = np.ones(feed["day"].size, dtype=bool)
        for column, value in (("kind", kind), ("list", on_list)):
            if value is not None:
                keep &= feed[column] == value
        if from_day is not None:
            keep &= feed["day"] >= from_day
        if to_day is not None:
            keep &= feed["day"] <= to_day
        if citizen is not None:
            keep &= feed["subject"] == citizen
        chosen = np.flatnonzero(keep)
        order = chosen[np.argsort(-feed["day"][chosen], kind="stable")[:limit]]
        out = []
        for i in order:
            c = int(feed["subject"][i])
            b = int(feed["behaviour"][i])
            identity = identity_number(c, int(pop.age[c]), int(pop.district[c])) if pop else ""
            name = citizen_name(c)
            out.append(
                {
                    "day": int(feed["day"][i]),
                    "kind": str(feed["kind"][i]),
                    "citizen": c,
                    "list": feed["list"][i],
                    "text": notice_text(
                        str(feed["kind"][i]),
                        name,
                        identity,
                        live.behaviours[b] if b >= 0 else None,
                        int(feed["day"][i]),
                    ),
                }
            )
        return chosen.size, out


def frozen(city: City) -> tuple[GateStatus, SimpleNamespace]:
    """The city as of its last completed day, on copies of the columns that gates and records
    read (scores, listings, lists and their terms, grade caps, the error-free standing): its
    gate status, and what records read, which the next day does not change. About a dozen
    columns over citizens: a millisecond per 100,000."""
    shims = []
    for op in city.operators:
        if op.subject != "citizen":
            continue
        standing = copy.copy(op.standing)
        for name in ("score", "listed", "listing_day", "cap_grade", "cap_until"):
            setattr(standing, name, getattr(op.standing, name).copy())
        book = copy.copy(op.lists)
        book.lists = []
        for lst in op.lists.lists:
            frozen = copy.copy(lst)
            frozen.member, frozen.since, frozen.until, frozen.repeats = (
                lst.member.copy(),
                lst.since.copy(),
                lst.until.copy(),
                lst.repeats.copy(),
            )
            book.lists.append(frozen)
        cf = op.counterfactual
        shims.append(
            SimpleNamespace(
                subject="citizen",
                name=op.name,
                scheme=op.scheme,
                index=op.index,
                standing=standing,
                lists=book,
                covered=op.covered,
                counterfactual=SimpleNamespace(score=cf.score.copy(), listed=cf.listed.copy()),
                cf_members=[lst.member.copy() for lst in op.cf_lists.lists],
            )
        )
    status = live_status(shims, city.population, False, city.day)  # type: ignore[arg-type]  # copies of the operators
    return status, SimpleNamespace(day=city.day, operators=shims, population=city.population)


def _event_json(
    event: EventId, behaviour: str, sensor: str, points: int, flags: int
) -> dict[str, Any]:
    row = SimpleNamespace(
        actor=event.actor, **{column: bool(flags & flag) for flag, column in FLAG_COLUMNS.items()}
    )
    notes = [n.removeprefix("* ") for n in event_notes(row)]
    return {
        "event": str(event),
        "day": event.day,
        "behaviour": behaviour,
        "sensor": sensor,
        "points": int(points),
        "actor": event.actor,
        "counted": not flags & NOT_COUNTED,
        "notes": notes,
    }
