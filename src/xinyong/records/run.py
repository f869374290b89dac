"""Runs: what a simulated city left behind, and opening it again later.

    >>> import xinyong
    >>> run = xinyong.simulate("reference", citizens=2_000, days=30, seed=1)
    >>> sorted(run.summary)[:3]
    ['citizens', 'counterfactual_listed_share', 'days']
    >>> run.explain(0).citizen
    0

A run with ``out=DIR`` is a folder: ``run.duckdb`` (the store) and ``summary.json``, written
last, so a folder without it is a run that did not finish. :func:`xinyong.simulate` makes one
(:mod:`xinyong.records.simulation`).
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from xinyong.model.consequences import notice_lists
from xinyong.model.gates import Decision, Gates, GateStatus
from xinyong.model.org_gates import org_decision
from xinyong.model.population import citizen_name, credit_code, identity_number
from xinyong.primitives.shown import Shown, plots
from xinyong.records.explain import Explanation, explain_subject
from xinyong.records.ledger import Ledger, UnknownCitizenError
from xinyong.records.notices import notice_text, stored_org_standing, stored_status
from xinyong.records.store import RunStore
from xinyong.scenario import Scenario

__all__ = [
    "STORE_FILE",
    "SUMMARY_FILE",
    "Run",
    "RunError",
    "UnknownCitizenError",
    "damaged",
    "open_run",
    "reading_run",
]

STORE_FILE = "run.duckdb"
SUMMARY_FILE = "summary.json"
_SUMMARY_KEYS = {"scenario", "seed", "citizens", "days"}


class RunError(Exception):
    """A run folder that cannot be written or read, with what to do about it."""


class Run(Shown):
    """A simulated city: its summary, daily series, ledger and explanations.

    Do not build one directly: use :func:`simulate` or :func:`open_run`.
    """

    def __init__(
        self,
        store: RunStore,
        summary: dict[str, Any],
        path: Path | None,
        scratch: tempfile.TemporaryDirectory[str] | None = None,
    ) -> None:
        self._store = store
        self._scratch = scratch  # an in-memory split run's dataset, kept while the run is open
        self.summary = summary
        self.path = path
        self.scenario: Scenario = store.scenario()
        self.ledger = Ledger(store, self.scenario)
        self.operators = self.scenario.all_operators()
        self._gates: tuple[Gates, GateStatus] | None = None
        self._stored_status: GateStatus | None = None
        #: With ``simulate(profile=True)``: seconds, calls and events of each phase of the
        #: day and of the rest of the run (:meth:`xinyong.primitives.clock.PhaseClock.rows`).
        self.profile: list[dict[str, Any]] | None = None

    def __repr__(self) -> str:
        where = f" at '{self.path}'" if self.path else " (in memory)"
        s = self.summary
        return (
            f"<Run '{s['scenario']}' seed={s['seed']}: {s['citizens']:,} citizens, "
            f"{s['days']} days{where}>"
        )

    def plot(self, name: str | None = None) -> Any:
        """The report's plots of this run, as Plotly figures (shown inline in a notebook).

        Args:
            name: the start of a plot's title, any case ("scores", "chilling", "listed over
                time"); None: every plot, shown one after another and found by title.

        Raises:
            KeyError: no plot's title starts with ``name`` (the message lists them).
        """
        return plots(self, name)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def daily(self) -> pd.DataFrame:
        """The daily series: one row a day (mean score, grade shares, listed, events...)."""
        return self._store.query("SELECT * FROM daily ORDER BY day")

    @property
    def daily_operators(self) -> pd.DataFrame:
        """Every operator's daily series: one row per day, operator and grade."""
        return self._store.query("SELECT * FROM daily_operators ORDER BY day, operator, grade")

    @property
    def listings(self) -> pd.DataFrame:
        """Every change to the lists: day, operator, subject, counterfactual, change, reason.

        ``citizen`` repeats ``subject`` for the first operator's citizens, for convenience.
        """
        return self._store.query(
            "SELECT l.day, o.name AS operator, l.subject, l.subject AS citizen, "
            "l.counterfactual, l.change, l.reason FROM listings l JOIN operators o "
            "USING (operator) ORDER BY l.day, l.operator, l.subject, l.counterfactual"
        )

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """Any SQL over the run's tables (see :mod:`xinyong.records.store`)."""
        return self._store.query(sql, params)

    def _check(self, subject: int, kind: str = "citizen") -> int:
        if kind == "citizen":
            n, what = self.scenario.citizens, "citizens"
        else:
            n = self._store.count("organisations") if self.scenario.population else 0
            what = "organisations"
        if not isinstance(subject, int) or isinstance(subject, bool) or not 0 <= subject < n:
            who = "citizen" if kind == "citizen" else "organisation"
            numbered = f"{what} are numbered 0 to {n - 1}" if n else f"it has no {what}"
            raise UnknownCitizenError(f"{who} {subject!r} is not in this run: {numbered}")
        return subject

    def citizen(self, citizen: int) -> dict[str, Any]:
        """One citizen's attributes and standing under the first operator."""
        self._check(citizen)
        row = self._store.query("SELECT * FROM citizens WHERE citizen = ?", [citizen])
        out = row.iloc[0].to_dict()
        if "income_band" in out and self.scenario.population is not None:
            out["income"] = list(self.scenario.population.income_bands)[int(out["income_band"])]
        return out

    def explain(self, citizen: int) -> Explanation:
        """How one citizen's scores, grades and listings came to be, event by event.

        The explanation is for the first citizen scheme; ``.others`` holds one for every other
        operator that scores citizens.
        """
        return self._explain(self._check(citizen), "citizen")

    def explain_company(self, organisation: int) -> Explanation:
        """How one company's (or government body's) corporate scores came to be."""
        return self._explain(self._check(organisation, "company"), "company")

    def _explain(self, subject: int, kind: str) -> Explanation:
        name = None
        if self.scenario.population is not None:
            name = citizen_name(subject) if kind == "citizen" else credit_code(subject)
        parts = []
        for index, op in enumerate(self.operators):
            if op.scheme.subject != kind:
                continue
            standing = (
                self._store.query(
                    "SELECT * FROM standings WHERE operator = ? AND subject = ?", [index, subject]
                )
                .iloc[0]
                .to_dict()
            )
            starts = self.ledger.starting_scores(op.name)
            start = int(starts[subject]) if starts is not None else op.scheme.score.start
            parts.append(
                explain_subject(
                    self.scenario,
                    op,
                    self.summary["days"],
                    subject,
                    start,
                    standing,
                    events=self.ledger.events(subject, op.name),
                    done_by=self.ledger.done_by(subject, op.name),
                    listings=self._store.query(
                        "SELECT day, change, reason, counterfactual FROM listings "
                        "WHERE operator = ? AND subject = ? ORDER BY day, counterfactual",
                        [index, subject],
                    ),
                    list_history=self._store.query(
                        "SELECT day, list, change, counterfactual FROM list_changes "
                        "WHERE operator = ? AND subject = ? ORDER BY day, counterfactual, list",
                        [index, subject],
                    )
                    if op.scheme.lists
                    else None,
                    memberships=self._store.query(
                        "SELECT list, kind, since, until, repeats, counterfactual_member "
                        "FROM memberships WHERE operator = ? AND subject = ? ORDER BY list",
                        [index, subject],
                    )
                    if op.scheme.lists
                    else None,
                    name=name,
                    covered=bool(standing.get("covered", True)),
                )
            )
        if not parts:
            raise UnknownCitizenError(f"no operator in this run scores {kind}s")
        return dataclasses.replace(parts[0], others=tuple(parts[1:]))

    def gate(self, service: str, citizen: int) -> Decision:
        """What a service says to a citizen at the point of service, with the reason in words.

        Raises:
            RunError: the run's scenario has no joint rewards and sanctions table.
            KeyError: the service is unknown (the message lists the services).
        """
        self._check(citizen)
        consequences = self.scenario.consequences
        if consequences is not None and service in {s.name for s in consequences.org_services}:
            raise KeyError(
                f"'{service}' is a service organisations ask for: ask it about a company "
                f"(xinyong gate DIR {service} --company N; run.gate_company)"
            )
        if self._gates is None:
            citizen_ops = [op for op in self.operators if op.scheme.subject == "citizen"]
            if consequences is None or not citizen_ops:
                raise RunError(
                    f"scenario '{self.scenario.name}' has no [consequences] table: "
                    f"its services check nothing. Use a scenario with one, such as "
                    f"rongcheng."
                )
            if not consequences.services:
                raise RunError(
                    f"scenario '{self.scenario.name}' has no services citizens ask for, "
                    f"only organisations' ({', '.join(s.name for s in consequences.org_services)}"
                    f"): ask about a company (xinyong gate DIR SERVICE --company N)"
                )
            self._gates = (Gates(consequences, citizen_ops[0].name), self._status())
        gates, status = self._gates
        return gates.decide(service, status, citizen)

    def gate_company(self, service: str, organisation: int) -> Decision:
        """What a service organisations ask for (a public tender, a bank loan, ...) says to
        one company or government body, with the reason in words.

        Raises:
            RunError: the run's scenario has no services for organisations.
            KeyError: the service is unknown (the message lists the services).
        """
        self._check(organisation, "company")
        consequences = self.scenario.consequences
        if consequences is None or not consequences.org_services:
            raise RunError(
                f"scenario '{self.scenario.name}' has no services for organisations: their "
                f"gates check nothing. Use a scenario with [[org_services]], such as "
                f"rongcheng or corporate."
            )
        services = [s.name for s in consequences.org_services]
        if service not in services:
            citizens = {s.name for s in consequences.services}
            hint = (
                f" ('{service}' is a service citizens ask for: leave out --company)"
                if service in citizens
                else ""
            )
            raise KeyError(
                f"unknown organisation service '{service}'{hint}; services: {', '.join(services)}"
            )
        standing = stored_org_standing(self._store, self.scenario, self._status(), organisation)
        rules = [r for r in consequences.org_rules if r.service == service]
        return org_decision(
            service, organisation, rules, standing.matches, standing.first, standing.checked
        )

    def _status(self) -> GateStatus:
        """Every citizen's lists and grades at the end of the run, read once."""
        if self._stored_status is None:
            self._stored_status = stored_status(self._store, self.scenario)
        return self._stored_status

    @property
    def notice_lists(self) -> list[str]:
        """The lists a notice can name (``run.notices(on_list=...)``): each citizen scheme's
        listing (``OPERATOR:listing``) and each list by name."""
        return notice_lists(self.operators)

    def notices(
        self, limit: int = 50, kind: str | None = None, on_list: str | None = None
    ) -> pd.DataFrame:
        """The latest public notices, with the synthetic name and identity number shown.

        Args:
            limit: how many, newest first.
            kind: only notices of this kind (billboard, tv, published_list, ...).
            on_list: only notices caused by joining this list (one of :attr:`notice_lists`).

        Raises:
            ValueError: ``on_list`` is not a list of this run (the message names them).
            RunError: the run was stored before notices recorded their list.
        """
        if on_list is not None and on_list not in self.notice_lists:
            raise ValueError(
                f"{on_list!r} is not a list of this run: choose one of "
                f"{', '.join(self.notice_lists) or '(none: it has no lists)'}"
            )
        if self.scenario.consequences is None:
            return pd.DataFrame(columns=["day", "kind", "subject", "list", "name", "text"])
        where, params, columns = self._notices_where(kind, on_list)
        listed = "n.list" if "list" in columns else "NULL::VARCHAR AS list"
        rows = self._store.query(
            f"SELECT n.day, n.kind, n.subject, {listed}, b.name AS behaviour FROM notices n "
            f"LEFT JOIN behaviours b ON b.behaviour = n.behaviour {where} "
            f"ORDER BY n.day DESC, n.subject LIMIT ?",
            [*params, limit],
        )
        rows["name"] = [citizen_name(int(c)) for c in rows["subject"]]
        rows["identity"] = ""
        if self.scenario.population is not None and len(rows):
            who = self._store.query(
                "SELECT citizen, age, district FROM population WHERE citizen IN (SELECT UNNEST(?))",
                [rows["subject"].astype(int).tolist()],
            ).set_index("citizen")
            rows["identity"] = [
                identity_number(int(c), int(who.age[c]), int(who.district[c]))
                for c in rows["subject"]
            ]
        rows["text"] = [
            notice_text(r.kind, r.name, r.identity, r.behaviour, r.day) for r in rows.itertuples()
        ]
        return rows

    def count_notices(self, kind: str | None = None, on_list: str | None = None) -> int:
        """How many notices there are of a kind, or caused by a list (all of them: None)."""
        if self.scenario.consequences is None:
            return 0
        where, params, _ = self._notices_where(kind, on_list)
        return self._store.count("notices n", where, params)

    def _notices_where(
        self, kind: str | None, on_list: str | None
    ) -> tuple[str, list[str], list[str]]:
        """The WHERE clause choosing notices, its parameters, and the notices' columns."""
        columns = [
            c[0] for c in self._store.con.execute("SELECT * FROM notices LIMIT 0").description
        ]
        if "list" not in columns and on_list is not None:
            raise RunError(
                "this run was stored before notices recorded the list that caused "
                "them: simulate it again to filter them by list"
            )
        conditions, params = [], []
        for column, value in (("kind", kind), ("list", on_list)):
            if value is not None:
                conditions.append(f"n.{column} = ?")
                params.append(value)
        return (f"WHERE {' AND '.join(conditions)}" if conditions else ""), params, columns

    def close(self) -> None:
        """Close the store (and delete an in-memory split run's dataset)."""
        self._store.close()
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None


#: What every finished run's store holds (tables, or views of a split run's dataset).
_REQUIRED = (
    "run_info",
    "sensors",
    "behaviours",
    "operators",
    "scheme_points",
    "ledger_rows",
    "listings",
    "list_changes",
    "memberships",
    "population",
    "standings",
    "daily",
    "daily_operators",
    "ledger",
    "events",
    "citizens",
)
_DAMAGED = "is damaged; delete the folder and simulate again"


def damaged(db: Path, exc: BaseException) -> RunError:
    """The one-line error for a store that failed while it was read (a corrupt block, a
    table gone), naming the file."""
    reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
    return RunError(f"'{db}' {_DAMAGED} ({reason})")


def _check_ledger(store: RunStore, folder: Path) -> None:
    """The ledger holds as many rows as the run wrote (a split run's dataset can lose a file
    and read on without it); a run stored before the count was kept is not checked."""
    wrote = store.info().get("ledger_rows")
    if wrote is None:
        return
    rows = store.con.execute("SELECT count(*) FROM ledger_rows").fetchall()[0][0]
    if rows != int(wrote):
        where = folder / "data" / "ledger" if (folder / "data").is_dir() else folder / STORE_FILE
        raise RunError(
            f"'{where}' {_DAMAGED} (its ledger has {rows:,} rows; the run wrote {int(wrote):,}: "
            f"files are missing or cut short)"
        )


def _check_subjects(store: RunStore, run: Run, folder: Path) -> None:
    """Every citizen has a row in the population and in each citizens' scheme's standings
    (a split run's tables are a file per block, and a lost one reads on without it: the
    gates would then index past the rows that are left)."""
    citizens = int(run.summary["citizens"])
    population = store.con.execute("SELECT count(*) FROM population").fetchall()[0][0]
    counts = dict(
        store.con.execute(
            "SELECT operator, count(DISTINCT subject) FROM standings GROUP BY operator"
        ).fetchall()
    )
    short = [("population", population)] if 0 < population != citizens else []
    short += [
        (f"standings of '{op.name}'", counts.get(index, 0))
        for index, op in enumerate(run.operators)
        if op.scheme.subject == "citizen" and counts.get(index, 0) != citizens
    ]
    if short:
        table, rows = short[0]
        where = folder / "data" / table.split()[0]  # a split run's files, or the store
        where = where if where.is_dir() else folder / STORE_FILE
        raise RunError(
            f"'{where}' {_DAMAGED} (its {table} has {rows:,} citizens of {citizens:,}: "
            f"files are missing or cut short)"
        )


@contextmanager
def reading_run(path: str | Path) -> Iterator[Run]:
    """:func:`open_run` for a block that reads the run: a failure of its store meanwhile (a
    corrupt block found by a query) is raised as one :class:`RunError` naming the store."""
    with open_run(path) as run:
        try:
            yield run
        except duckdb.Error as exc:
            raise damaged(Path(path) / STORE_FILE, exc) from None


def open_run(path: str | Path) -> Run:
    """Open a run folder written by :func:`simulate` (read-only).

    Raises:
        RunError: the folder is missing, is not a run, or holds a run that did not finish.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise RunError(f"no run at '{folder}': the folder does not exist")
    db = folder / STORE_FILE
    if not db.is_file():
        raise RunError(f"'{folder}' is not a xinyong run: it has no {STORE_FILE}")
    summary_file = folder / SUMMARY_FILE
    if not summary_file.is_file():
        raise RunError(
            f"the run in '{folder}' did not finish (no {SUMMARY_FILE}): it was "
            f"interrupted. Delete the folder and simulate again."
        )
    try:
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, OSError) as exc:
        reason = str(exc).splitlines()[0][:120]
        raise RunError(f"'{summary_file}' {_DAMAGED} ({reason})") from None
    if not isinstance(summary, dict) or not summary.keys() >= _SUMMARY_KEYS:
        raise RunError(f"'{summary_file}' {_DAMAGED} (it is not a run's summary)")
    try:
        store = RunStore(db, read_only=True)
    except duckdb.Error as exc:
        raise damaged(db, exc) from None
    try:
        names = {
            str(r[0])
            for r in store.con.execute(
                "SELECT table_name FROM duckdb_tables() UNION "
                "SELECT view_name FROM duckdb_views() WHERE NOT internal"
            ).fetchall()
        }
        missing = [name for name in _REQUIRED if name not in names]
        if missing:
            raise RunError(f"'{db}' {_DAMAGED} (it has no {', '.join(missing)})")
        run = Run(store, summary, folder)
        _check_ledger(store, folder)
        _check_subjects(store, run, folder)
        return run
    except (duckdb.Error, KeyError, ValueError, RunError) as exc:
        store.close()
        if isinstance(exc, RunError):
            raise
        raise damaged(db, exc) from None
