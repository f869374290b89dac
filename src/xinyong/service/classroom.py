"""A classroom in the live city: a teacher and a class of students, each student one of its
synthetic citizens (``xinyong serve --classroom 30``).

NetLogo's HubNet lets a class *be* the agents of a model; this is that for the system the
sources describe. Each student holds a seat: a synthetic adult citizen of the city, a key of
the ``citizen`` role limited to that citizen, and a join link. Each simulated day the student
chooses what their citizen does, from the scenario's citizen behaviours (or nothing in
particular); the choice is submitted through the city's inbox as an event recorded about the
citizen (flagged ``submitted`` in the ledger), and counts when the teacher advances the day.
The teacher's key has the ``admin`` role: it advances days, changes a policy mid-lesson (a
change of the run's timeline, :meth:`LiveCity.change`), decides appeals, and reads the class
against the synthetic city that fills the rest.

Everything follows the live city's guarantees: the seats are kept in the city's folder
(``classroom.toml``, readable by its owner alone), the choices in its store
(``classroom_actions``), written before they are answered, so a restart loses no seat and no
choice; the access matrix (:mod:`xinyong.service.roles`) decides who may call what.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
import tomllib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import tomli_w

from xinyong.engine.chilling import RARE, chilling_text
from xinyong.scenario.timeline import timeline_rows
from xinyong.service.appeals import EventId
from xinyong.service.auth import Identity
from xinyong.service.errors import LiveError
from xinyong.service.inbox import Submission

if TYPE_CHECKING:
    from xinyong.service.live import LiveCity

__all__ = ["SEATS_FILE", "Classroom", "Seat"]

SEATS_FILE = "classroom.toml"  # in the live city's folder: the teacher's key and the seats
_TABLE = """
CREATE TABLE IF NOT EXISTS classroom_actions (
    day INTEGER NOT NULL, seat INTEGER NOT NULL, citizen INTEGER NOT NULL,
    behaviour VARCHAR, chosen_at DOUBLE NOT NULL, PRIMARY KEY (seat, day));
"""
NOTHING = "nothing in particular"  # the choice that submits no event
ADULT = 18  # seats go to adults: a child's behaviours are scored through the parents' gates
CHILLING_SHOWN = 8  # behaviours the teacher sees the chilling effect of: the most changed


@dataclass(frozen=True)
class Seat:
    """A student's place: the seat's number, its synthetic citizen and its key."""

    seat: int
    citizen: int
    key: str


class Classroom:
    """The teacher's key, the seats and the choices of one live city's class.

    A class is made once, when a city first serves with ``--classroom N``; afterwards the
    folder's seats are read back, whatever N is given (a restart changes no key).

    Args:
        live: the city the class plays in.
        seats: how many students, for a new class (1 to 500).
        citizens: the seats' citizens, for a new class (default: adults spread evenly over
            the ids).

    Raises:
        LiveError: 400, a class of another size is already seated here, or the city has too
            few adults; the seats file is damaged.
    """

    def __init__(self, live: LiveCity, seats: int, citizens: list[int] | None = None) -> None:
        self.live = live
        path = live.folder / SEATS_FILE
        if path.exists():
            self.teacher_key, self.seats = self._read(path)
            if len(self.seats) != seats:
                raise LiveError(
                    400,
                    f"'{live.folder}' seats a class of {len(self.seats)} already: give "
                    f"--classroom {len(self.seats)}, or another --run for a new class",
                )
        else:
            if not 1 <= seats <= 500:
                raise LiveError(400, f"--classroom {seats}: a class has 1 to 500 students")
            self.teacher_key = secrets.token_urlsafe(18)
            self.seats = [
                Seat(i + 1, c, secrets.token_urlsafe(18))
                for i, c in enumerate(citizens or self._citizens(seats))
            ]
            self._write(path)
        self.by_citizen = {s.citizen: s for s in self.seats}
        self._lock = threading.Lock()  # one choice at a time: one a seat a day
        with live.locks.writer:  # the store's own connection, under the writer
            live.store.con.execute(_TABLE)
        self._con = live.store.con.cursor()  # the class's own connection to the store
        ops = live.scenario.all_operators()
        first = next(op for op in ops if op.scheme.subject == "citizen")
        points = {r.behaviour: r.points for r in first.scheme.points}
        #: The choices a student has: each citizen behaviour with its points under the first
        #: citizen scheme (0 where it scores nothing), best first.
        best_first = sorted(live.citizen_behaviours, key=lambda b: (-points.get(b, 0), b))
        self.choices: list[dict[str, Any]] = [
            {"behaviour": b, "points": int(points.get(b, 0))} for b in best_first
        ]

    def _citizens(self, seats: int) -> list[int]:
        """The seats' citizens: adults spread evenly over the ids (no random draw: the same
        city seats the same citizens)."""
        pop = self.live.city.population
        adults = (
            np.flatnonzero(pop.age >= ADULT)
            if pop is not None
            else np.arange(self.live.scenario.citizens)
        )
        if adults.size < seats:
            raise LiveError(
                400,
                f"the city has {adults.size} adult citizens, too few for {seats} seats: give "
                f"more --citizens",
            )
        picks = np.linspace(0, adults.size - 1, seats).round().astype(np.int64)
        return [int(c) for c in adults[picks]]

    def _write(self, path: Any) -> None:
        data = {
            "teacher": self.teacher_key,
            "seats": [{"seat": s.seat, "citizen": s.citizen, "key": s.key} for s in self.seats],
        }
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # keys: owner only
        with os.fdopen(fd, "wb") as f:
            tomli_w.dump(data, f)
        os.replace(tmp, path)

    @staticmethod
    def _read(path: Any) -> tuple[str, list[Seat]]:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            return str(data["teacher"]), [
                Seat(int(s["seat"]), int(s["citizen"]), str(s["key"])) for s in data["seats"]
            ]
        except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
            raise LiveError(
                400,
                f"'{path}' is damaged ({str(exc)[:80]}): restore it, or start the class in "
                f"another --run",
            ) from None

    def keys(self) -> list[tuple[str, Identity]]:
        """The class's keys: the teacher's (admin) and each seat's (its citizen's alone)."""
        return [(self.teacher_key, Identity(name="teacher", role="admin"))] + [
            (s.key, Identity(name=f"seat {s.seat}", role="citizen", citizen=s.citizen))
            for s in self.seats
        ]

    def seat(self, citizen: int) -> Seat:
        """The seat a citizen holds (404 for one who holds none)."""
        seat = self.by_citizen.get(citizen)
        if seat is None:
            raise LiveError(404, f"citizen {citizen} holds no seat in this class")
        return seat

    # -- a student's day ---------------------------------------------------------------------

    def act(self, seat: Seat, behaviour: str) -> dict[str, Any]:
        """The seat's citizen does ``behaviour`` on the first day not yet begun (or
        :data:`NOTHING`): stored before it is answered; one choice a seat a day.

        Raises:
            LiveError: 422 for a behaviour the scenario does not have; 409 for a second
                choice on the same day.
        """
        live = self.live
        if behaviour != NOTHING:
            live.sensor_of(behaviour)  # 422 with the list for an unknown one
        with self._lock:
            day = live.inbox.day
            done = self._con.execute(
                "SELECT behaviour FROM classroom_actions WHERE seat = ? AND day = ?",
                [seat.seat, day],
            ).fetchall()
            if done:
                raise LiveError(
                    409,
                    f"seat {seat.seat} has chosen for day {day} already "
                    f"({done[0][0] or NOTHING}): wait for the teacher to advance the day",
                )
            if behaviour != NOTHING:
                (receipt,) = live.submit(
                    [Submission(f"classroom-{seat.seat}-{day}", seat.citizen, behaviour)],
                    f"classroom seat {seat.seat}",
                )
                day = receipt.day
            self._con.execute(
                "INSERT INTO classroom_actions VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [day, seat.seat, seat.citizen, None if behaviour == NOTHING else behaviour,
                 time.time()],
            )  # fmt: skip
        return {"seat": seat.seat, "day": day, "behaviour": behaviour}

    def me(self, seat: Seat) -> dict[str, Any]:
        """What a student's page shows besides the record and the gates: the seat, the day,
        the choices, today's choice if made, and the notices about the citizen."""
        live = self.live
        day = live.inbox.day
        with live.reading() as con:  # this thread's own cursor
            chosen = con.execute(
                "SELECT behaviour FROM classroom_actions WHERE seat = ? AND day = ?",
                [seat.seat, day],
            ).fetchall()
        _, notices = live.records.notice_feed(20, citizen=seat.citizen)
        return {
            "seat": seat.seat,
            "citizen": seat.citizen,
            "day": live.day,
            "choosing_for": day,
            "chosen": (chosen[0][0] or NOTHING) if chosen else None,
            "choices": [{"behaviour": NOTHING, "points": 0}, *self.choices],
            "notices": notices,
        }

    # -- the teacher's view ------------------------------------------------------------------

    def view(self) -> dict[str, Any]:
        """The class against the synthetic city that fills the rest: each seat's standing
        under the first citizen scheme and its choices and appeals, the class's and the
        rest's mean score and listed share, the city's figures, the chilling effect (the
        behaviours changed most, the whole city against its twin where nothing acts on
        people, each with its 95 % interval) and the timeline so far."""
        live = self.live
        with live.reading() as con:
            op = next(op for op in live.city.operators if op.subject == "citizen")
            score = op.standing.score.copy()
            listed = op.standing.listed.copy()
            grades = op.standing.grades(np.array([s.citizen for s in self.seats]), live.day)
            grade_names = op.standing.grade_names
            counts = dict(
                con.execute("SELECT seat, count(*) FROM classroom_actions GROUP BY seat").fetchall()
            )
            filed = con.execute(
                "SELECT appeal, citizen, event_day, operator, actor, behaviour, nth, status "
                "FROM appeals WHERE citizen IN (SELECT UNNEST(?)) ORDER BY appeal",
                [[s.citizen for s in self.seats]],
            ).fetchall()
        appeals: dict[int, int] = {}
        for row in filed:
            appeals[row[1]] = appeals.get(row[1], 0) + 1
        mine = np.zeros(score.size, dtype=bool)
        mine[[s.citizen for s in self.seats]] = True

        def group(where: np.ndarray) -> dict[str, Any]:
            n = int(where.sum())
            return {
                "citizens": n,
                "mean_score": float(score[where].mean()) if n else None,
                "listed_share": float(listed[where].mean()) if n else None,
                "listed": int(listed[where].sum()),
            }

        figures = live.stats()
        detail = figures.get("chilling_detail", {})
        common = sorted(
            (n for n, r in detail.items() if r["with"] + r["without"] >= RARE),
            key=lambda n: -abs(detail[n]["change"]),
        )
        return {
            "scenario": live.scenario.name,
            "operator": op.name,
            "chilling": [
                {"behaviour": n, "text": chilling_text(detail[n])} for n in common[:CHILLING_SHOWN]
            ],
            "day": live.day,
            "seats": [
                {
                    "seat": s.seat,
                    "citizen": s.citizen,
                    "score": int(score[s.citizen]),
                    "grade": grade_names[int(g)],
                    "listed": bool(listed[s.citizen]),
                    "actions": int(counts.get(s.seat, 0)),
                    "appeals": int(appeals.get(s.citizen, 0)),
                }
                for s, g in zip(self.seats, grades, strict=True)
            ],
            "class": group(mine),
            "rest": group(~mine),
            "appeals": [
                {
                    "appeal": int(a),
                    "seat": self.by_citizen[int(c)].seat,
                    "event": str(EventId(int(d), int(o), int(c), int(actor), int(b), int(nth))),
                    "status": str(status),
                }
                for a, c, d, o, actor, b, nth, status in filed
            ],
            "figures": figures,
            "timeline": timeline_rows(live.scenario),
        }

    def report(self) -> dict[str, Any]:
        """The session's report: every choice counted (by seat, by day and by behaviour),
        the appeals the class filed and how they were decided, the policy changes, and the
        class against the rest at the end."""
        with self.live.reading() as con:
            actions = con.execute(
                "SELECT day, seat, coalesce(behaviour, ?) AS behaviour FROM classroom_actions "
                "ORDER BY day, seat",
                [NOTHING],
            ).fetchall()
            appeals = con.execute(
                "SELECT status, count(*) FROM appeals WHERE citizen IN (SELECT UNNEST(?)) "
                "GROUP BY status ORDER BY status",
                [[s.citizen for s in self.seats]],
            ).fetchall()

        def tally(index: int) -> dict[str, int]:
            out: dict[str, int] = {}
            for row in actions:
                out[str(row[index])] = out.get(str(row[index]), 0) + 1
            return out

        view = self.view()
        return {
            "scenario": view["scenario"],
            "days": view["day"],
            "students": len(self.seats),
            "actions": len(actions),
            "actions_by_seat": tally(1),
            "actions_by_day": tally(0),
            "actions_by_behaviour": dict(sorted(tally(2).items(), key=lambda kv: -kv[1])),
            "appeals": {str(status): int(n) for status, n in appeals},
            "timeline": view["timeline"],
            "class": view["class"],
            "rest": view["rest"],
            "seats": view["seats"],
        }
