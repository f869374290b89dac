"""Runs: simulate a scenario, keep what happened, and open it again later.

    >>> import xinyong
    >>> run = xinyong.simulate("reference", citizens=2_000, days=30, seed=1)
    >>> sorted(run.summary)[:3]
    ['citizens', 'counterfactual_listed_share', 'days']
    >>> run.explain(0).citizen
    0

A run with ``out=DIR`` is a folder: ``run.duckdb`` (the store) and ``summary.json``, written
last, so a folder without it is a run that did not finish.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from xinyong.engine.city import City, twin_occurrences
from xinyong.engine.cluster import check_output, connect
from xinyong.engine.day import PhaseClock
from xinyong.engine.split import SplitCity
from xinyong.engine.workers import latest_checkpoint, require_ray, run_on_ray
from xinyong.model.consequences import notice_lists
from xinyong.model.gates import Decision, Gates, GateStatus
from xinyong.model.population import citizen_name, credit_code, identity_number
from xinyong.records.dataset import DATA, prepare
from xinyong.records.explain import Explanation, explain_subject
from xinyong.records.ledger import Ledger, UnknownCitizenError
from xinyong.records.notices import notice_text, stored_status
from xinyong.records.store import RunStore
from xinyong.records.tables import daily_tables, subject_tables
from xinyong.records.tally import summarize
from xinyong.scenario import Scenario, load_scenario
from xinyong.studies.overrides import apply as apply_overrides
from xinyong.studies.overrides import normalise as normalise_overrides

__all__ = ["Run", "RunError", "UnknownCitizenError", "check_output_folder", "open_run",
           "simulate"]

STORE_FILE = "run.duckdb"
SUMMARY_FILE = "summary.json"
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:/")  # s3://, gs://, hdfs:// (a Path keeps one /)
_SUMMARY_KEYS = {"scenario", "seed", "citizens", "days"}
CLAIM_FILE = ".claimed"  # in a run folder while a run writes it


class RunError(Exception):
    """A run folder that cannot be written or read, with what to do about it."""


class Run:
    """A simulated city: its summary, daily series, ledger and explanations.

    Do not build one directly: use :func:`simulate` or :func:`open_run`.
    """

    def __init__(self, store: RunStore, summary: dict[str, Any], path: Path | None,
                 scratch: tempfile.TemporaryDirectory[str] | None = None) -> None:
        self._store = store
        self._scratch = scratch  # an in-memory split run's dataset, kept while the run is open
        self.summary = summary
        self.path = path
        self.scenario: Scenario = store.scenario()
        self.ledger = Ledger(store, self.scenario)
        self.operators = self.scenario.all_operators()
        self._gates: tuple[Gates, GateStatus] | None = None
        #: With ``simulate(profile=True)``: seconds, calls and events of each phase of the
        #: day and of the rest of the run (:meth:`xinyong.engine.day.PhaseClock.rows`).
        self.profile: list[dict[str, Any]] | None = None

    def __repr__(self) -> str:
        where = f" at '{self.path}'" if self.path else " (in memory)"
        s = self.summary
        return (f"<Run '{s['scenario']}' seed={s['seed']}: {s['citizens']:,} citizens, "
                f"{s['days']} days{where}>")

    def _repr_html_(self) -> str:
        from xinyong.views.notebook import run_html

        return run_html(self)

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
            "USING (operator) ORDER BY l.day, l.operator, l.subject, l.counterfactual")

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """Any SQL over the run's tables (see :mod:`xinyong.records.store`)."""
        return self._store.query(sql, params)

    def _check(self, subject: int, kind: str = "citizen") -> int:
        if kind == "citizen":
            n, what = self.scenario.citizens, "citizens"
        else:
            n = int(self._store.con.execute("SELECT count(*) FROM organisations").fetchone()[0]) \
                if self.scenario.population else 0
            what = "organisations"
        if not isinstance(subject, int) or isinstance(subject, bool) or not 0 <= subject < n:
            raise UnknownCitizenError(
                f"{kind} {subject!r} is not in this run: {what} are numbered 0 to {n - 1}")
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
            standing = self._store.query(
                "SELECT * FROM standings WHERE operator = ? AND subject = ?",
                [index, subject]).iloc[0].to_dict()
            starts = self.ledger.starting_scores(op.name)
            start = int(starts[subject]) if starts is not None else op.scheme.score.start
            parts.append(explain_subject(
                self.scenario, op, self.summary["days"], subject, start, standing,
                events=self.ledger.events(subject, op.name),
                done_by=self.ledger.done_by(subject, op.name),
                listings=self._store.query(
                    "SELECT day, change, reason, counterfactual FROM listings "
                    "WHERE operator = ? AND subject = ? ORDER BY day, counterfactual",
                    [index, subject]),
                list_history=self._store.query(
                    "SELECT day, list, change, counterfactual FROM list_changes "
                    "WHERE operator = ? AND subject = ? ORDER BY day, counterfactual, list",
                    [index, subject]) if op.scheme.lists else None,
                memberships=self._store.query(
                    "SELECT list, kind, since, until, repeats, counterfactual_member "
                    "FROM memberships WHERE operator = ? AND subject = ? ORDER BY list",
                    [index, subject]) if op.scheme.lists else None,
                name=name))
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
        if self._gates is None:
            consequences = self.scenario.consequences
            citizen_ops = [op for op in self.operators if op.scheme.subject == "citizen"]
            if consequences is None or not citizen_ops:
                raise RunError(f"scenario '{self.scenario.name}' has no [consequences] table: "
                               f"its services check nothing. Use a scenario with one, such as "
                               f"rongcheng.")
            self._gates = (Gates(consequences, citizen_ops[0].name),
                           stored_status(self._store, self.scenario))
        gates, status = self._gates
        return gates.decide(service, status, citizen)

    @property
    def notice_lists(self) -> list[str]:
        """The lists a notice can name (``run.notices(on_list=...)``): each citizen scheme's
        listing (``OPERATOR:listing``) and each list by name."""
        return notice_lists(self.operators)

    def notices(self, limit: int = 50, kind: str | None = None, on_list: str | None = None
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
            raise ValueError(f"{on_list!r} is not a list of this run: choose one of "
                             f"{', '.join(self.notice_lists) or '(none: it has no lists)'}")
        if self.scenario.consequences is None:
            return pd.DataFrame(columns=["day", "kind", "subject", "list", "name", "text"])
        columns = [c[0] for c in self._store.con.execute(
            "SELECT * FROM notices LIMIT 0").description]
        if "list" not in columns and on_list is not None:
            raise RunError("this run was stored before notices recorded the list that caused "
                           "them: simulate it again to filter them by list")
        conditions, params = [], []
        for column, value in (("kind", kind), ("list", on_list)):
            if value is not None:
                conditions.append(f"n.{column} = ?")
                params.append(value)
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        listed = "n.list" if "list" in columns else "NULL::VARCHAR AS list"
        rows = self._store.query(
            f"SELECT n.day, n.kind, n.subject, {listed}, b.name AS behaviour FROM notices n "
            f"LEFT JOIN behaviours b ON b.behaviour = n.behaviour {where} "
            f"ORDER BY n.day DESC, n.subject LIMIT ?", [*params, limit])
        rows["name"] = [citizen_name(int(c)) for c in rows["subject"]]
        rows["identity"] = ""
        if self.scenario.population is not None and len(rows):
            who = self._store.query(
                "SELECT citizen, age, district FROM population WHERE citizen IN "
                "(SELECT UNNEST(?))", [rows["subject"].astype(int).tolist()]).set_index("citizen")
            rows["identity"] = [identity_number(int(c), int(who.age[c]), int(who.district[c]))
                                for c in rows["subject"]]
        rows["text"] = [notice_text(r.kind, r.name, r.identity, r.behaviour, r.day)
                        for r in rows.itertuples()]
        return rows

    def close(self) -> None:
        """Close the store (and delete an in-memory split run's dataset)."""
        self._store.close()
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None


def _resolve(scenario: str | Path | Scenario, citizens: int | None, days: int | None,
             overrides: Mapping[str, Any] | None = None) -> Scenario:
    s = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return apply_overrides(s, overrides or {}).with_sizes(citizens=citizens, days=days)


def check_output_folder(out: Path) -> None:
    """Raise :class:`RunError` unless ``out`` is missing or an empty folder."""
    if (out / CLAIM_FILE).exists():
        raise RunError(f"output folder '{out}' is taken by another run writing to it; choose "
                       f"another --out")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise RunError(f"output folder '{out}' already exists and is not empty; choose another "
                       f"--out, or delete it first")


def claim_output_folder(out: Path) -> bool:
    """Make ``out`` this run's, atomically: two runs given one folder cannot both have it.

    Returns:
        Whether the folder was created here (and may be removed if the run fails).

    Raises:
        RunError: the folder is not empty, is taken by another run, or cannot be made.
    """
    check_output_folder(out)
    try:
        created = not out.exists()
        out.mkdir(parents=True, exist_ok=True)
        (out / CLAIM_FILE).open("x").close()
    except FileExistsError:
        raise RunError(f"output folder '{out}' is taken by another run writing to it; choose "
                       f"another --out") from None
    except OSError as exc:
        raise RunError(f"cannot make output folder '{out}': {exc.strerror}; choose another "
                       f"--out") from None
    if any(p.name != CLAIM_FILE for p in out.iterdir()):  # filled between the check and here
        (out / CLAIM_FILE).unlink(missing_ok=True)
        raise RunError(f"output folder '{out}' is taken by another run writing to it; choose "
                       f"another --out")
    return created


def simulate(scenario: str | Path | Scenario = "reference", *, citizens: int | None = None,
             days: int | None = None, seed: int = 0, out: str | Path | None = None,
             progress: Callable[[int], None] | bool | None = None, blocks: int = 1,
             workers: int = 0, ray_address: str | None = None, checkpoint_every: int = 0,
             resume: bool = False, shared_out: bool = False,
             set: Mapping[str, Any] | None = None, threads: bool = True,
             profile: bool = False) -> Run:
    """Simulate a city and keep everything it recorded.

    Args:
        scenario: a built-in scenario name, a scenario file, or a :class:`Scenario`.
        citizens: population size (default: the scenario's).
        days: days to simulate (default: the scenario's).
        seed: the seed of every random stream; the same seed gives the same run.
        out: a folder to write ``run.duckdb`` and ``summary.json`` to; in memory if None.
        progress: called with the number of days done after each day; True shows a bar
            with the time left (in a terminal, or in a notebook).
        blocks: simulate the city as this many blocks of citizens in this process (exactly
            the same results; the way a city is spread over workers).
        workers: simulate the city as this many blocks on Ray workers (the same results);
            0 runs in this process.
        ray_address: an existing Ray cluster for the workers, ``HOST:PORT`` of its head or
            ``auto`` for this machine's (default: a Ray of the run's own on this machine).
        checkpoint_every: with workers and ``out``, checkpoint every this many days.
        resume: continue the unfinished split run in ``out`` from its latest checkpoint
            (same scenario, seed and workers).
        shared_out: ``out`` is on a filesystem every node of the Ray cluster mounts at the
            same path (required, and checked, on a cluster of more than one node).
        set: overrides, path → value, e.g. ``{"sensors.camera.misidentify": 0.05}`` (see
            :mod:`xinyong.studies.overrides`); the run records them in its summary.
        threads: score the counterfactual on a second core (False: inline, one core, as
            when several runs share the cores; the same results).
        profile: time each phase of the day and the rest of the wall time (set-up, the
            counterfactual, the ledger, the twin, the summary) into ``run.profile``; in this
            process only (not with ``workers``).

    Returns:
        The finished run.

    Raises:
        ScenarioError: the scenario cannot be used.
        RunError: the output folder exists and is not empty.
        ClusterError: the Ray cluster cannot be joined, or its nodes cannot all write
            ``out``.
    """
    if seed < 0:
        raise ValueError(f"seed = {seed}: a seed must be a non-negative integer")
    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    overrides = normalise_overrides(base, set or {})
    chosen = _resolve(base, citizens, days, overrides)
    if out is not None and _URI.match(str(out)):
        raise RunError(f"--out '{out}' is a URI, and a run is written to a folder (object "
                       f"stores are not supported yet): on a cluster, give a folder on a "
                       f"filesystem every node mounts at the same path (NFS, a cluster "
                       f"filesystem)")
    if progress is True:
        from xinyong.views.progress import days_bar

        with days_bar(f"{chosen.name}: {chosen.citizens:,} citizens", chosen.days) as bar:
            return simulate(chosen, seed=seed, out=out, progress=bar, blocks=blocks,
                            workers=workers, ray_address=ray_address,
                            checkpoint_every=checkpoint_every, resume=resume,
                            shared_out=shared_out, threads=threads, profile=profile)
    progress = progress or None
    folder = Path(out) if out is not None else None
    on_ray = workers > 0 or ray_address is not None
    created = False
    if profile and on_ray:
        raise RunError("--profile times a run in this process: leave out --workers (Ray "
                       "workers' days are timed by Ray's own dashboard)")
    ray = require_ray() if on_ray else None  # before anything is written: nothing to undo
    if resume:
        if not on_ray:
            raise RunError("only a run on Ray workers checkpoints: resume with the same "
                           "--workers N it was started with")
        if folder is None or latest_checkpoint(folder, workers) is None:
            raise RunError(f"nothing to resume in '{folder}': no complete checkpoint of a "
                           f"{workers}-worker run")
    elif folder is not None:
        created = claim_output_folder(folder)
    try:
        if ray is not None:  # join the cluster, and check its nodes can all write the output
            connect(ray, ray_address)
            check_output(ray, folder, shared_out)
        return _simulate(chosen, seed, folder, progress, blocks, workers, ray_address,
                         checkpoint_every, resume, on_ray, overrides, threads,
                         PhaseClock() if profile else None)
    except BaseException:
        # A failed run leaves no summary, and no folder unless it can be resumed from.
        if folder is not None and not resume and not checkpoint_every:
            _remove_run(folder, created)
        raise
    finally:
        if folder is not None:
            (folder / CLAIM_FILE).unlink(missing_ok=True)


def _remove_run(folder: Path, created: bool) -> None:
    """Remove what a failed run wrote (the folder too if it made it)."""
    for path in [folder / SUMMARY_FILE, folder / STORE_FILE, folder / (STORE_FILE + ".wal"),
                 folder / CLAIM_FILE]:
        path.unlink(missing_ok=True)
    shutil.rmtree(folder / DATA, ignore_errors=True)
    if created:
        shutil.rmtree(folder, ignore_errors=True)


def _simulate(chosen: Scenario, seed: int, folder: Path | None,
              progress: Callable[[int], None] | None, blocks: int, workers: int,
              ray_address: str | None, checkpoint_every: int, resume: bool, on_ray: bool,
              overrides: Mapping[str, Any], threads: bool, clock: PhaseClock | None = None
              ) -> Run:
    started = time.perf_counter()

    def timed(name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if clock is None:
            return fn(*args, **kwargs)
        return clock.time(name, lambda: fn(*args, **kwargs))

    if resume:
        assert folder is not None
        store = RunStore(folder / STORE_FILE)
    else:
        store = timed("store: created", RunStore.create,
                      folder / STORE_FILE if folder else None, chosen, seed)
        if overrides:
            store.set_info(overrides=json.dumps(overrides))
    scratch = None
    if on_ray or blocks > 1:  # the blocks write a Parquet dataset; the driver adds tallies
        if folder is None:
            scratch = tempfile.TemporaryDirectory(prefix="xinyong-run-")
        root = folder if folder is not None else Path(scratch.name)  # type: ignore[union-attr]
        if not resume:
            prepare(root / DATA)
        if on_ray:
            tally = run_on_ray(chosen, seed, max(workers, 1), root / DATA, ray_address,
                               progress, folder, checkpoint_every)
        else:
            split = timed("set-up", SplitCity, chosen, seed, blocks, root / DATA)
            if clock is not None:
                for r in split.runs:
                    r.city.profile(clock)
            tally = split.run(progress)
        timed("store: the blocks' dataset read", store.read_dataset, root)
        timed("store: daily tables", store.finish, daily_tables(chosen, tally))
    else:
        city = timed("set-up", lambda: City(chosen, seed, store, threads=threads))
        if clock is not None:
            city.profile(clock)
        city.run(progress)
        tally = timed("tally", city.tally)
        tables = timed("subject tables", subject_tables, city)
        del city  # the twin needs the memory more
        tally.twin_daily = timed("twin (behaviour only)", twin_occurrences, chosen, seed)
        timed("store: tables", store.finish, {**daily_tables(chosen, tally), **tables})
    summary = timed("summary", summarize, chosen, seed, chosen.days, tally)
    recorded = json.loads(store.info().get("overrides", "{}"))
    if recorded:
        summary["overrides"] = recorded
    summary["wall_seconds"] = round(time.perf_counter() - started, 3)
    try:  # a figure that is not a number is a failed run, not a summary
        text = json.dumps(summary, indent=2, allow_nan=False)
    except ValueError:
        bad = sorted(k for k, v in summary.items() if isinstance(v, float) and v != v)
        raise RunError(f"the run's figures {', '.join(bad) or ''} are not numbers (NaN): "
                       f"check the scenario's values") from None
    timed("store: summary written", store.set_info, status="complete",
          summary=json.dumps(summary))
    timed("store: checkpoint", store.con.execute, "CHECKPOINT")
    if folder is not None:
        tmp = folder / (SUMMARY_FILE + ".tmp")
        tmp.write_text(text + "\n", encoding="utf-8")
        os.replace(tmp, folder / SUMMARY_FILE)  # atomic: the summary's presence means complete
    run = Run(store, summary, folder, scratch)
    if clock is not None:
        run.profile = clock.rows(time.perf_counter() - started)
    return run


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
        raise RunError(f"the run in '{folder}' did not finish (no {SUMMARY_FILE}): it was "
                       f"interrupted. Delete the folder and simulate again.")
    damaged = "is damaged; delete the folder and simulate again"
    try:
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, OSError) as exc:
        reason = str(exc).splitlines()[0][:120]
        raise RunError(f"'{summary_file}' {damaged} ({reason})") from None
    if not isinstance(summary, dict) or not summary.keys() >= _SUMMARY_KEYS:
        raise RunError(f"'{summary_file}' {damaged} (it is not a run's summary)")
    try:
        store = RunStore(db, read_only=True)
    except duckdb.Error as exc:
        reason = str(exc).splitlines()[0][:120]
        raise RunError(f"'{db}' {damaged} ({reason})") from None
    try:
        return Run(store, summary, folder)
    except (duckdb.Error, KeyError, ValueError) as exc:
        store.close()
        reason = str(exc).splitlines()[0][:120]
        raise RunError(f"'{db}' {damaged} ({reason})") from None
