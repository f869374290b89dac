"""Simulating a scenario into a run: :func:`simulate`, the Python API's main call.

    >>> import xinyong
    >>> run = xinyong.simulate("reference", citizens=2_000, days=30, seed=1)
    >>> run.summary["days"]
    30

It resolves the scenario (sizes, overrides), claims the output folder, runs the city (in this
process, as blocks, or on Ray workers), writes the store's tables and the summary last, and
returns the :class:`~xinyong.records.run.Run`. A failed run leaves no summary, and no folder
unless it can be resumed from.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from xinyong.engine.city import City
from xinyong.engine.cluster import check_output, connect
from xinyong.engine.split import SplitCity
from xinyong.engine.tally import Tally, summarize
from xinyong.engine.twin import has_twin, twin_occurrences
from xinyong.engine.workers import latest_checkpoint, require_ray, run_on_ray
from xinyong.primitives.clock import PhaseClock
from xinyong.primitives.shown import days_bar
from xinyong.records.counterparts import record_rows
from xinyong.records.dataset import DATA, BlockDataset, prepare
from xinyong.records.run import STORE_FILE, SUMMARY_FILE, Run, RunError
from xinyong.records.store import RunStore, disk_full
from xinyong.records.tables import daily_tables, subject_tables
from xinyong.scenario import Scenario, load_scenario
from xinyong.scenario.overrides import apply as apply_overrides
from xinyong.scenario.overrides import normalise as normalise_overrides
from xinyong.scenario.published import load_record

__all__ = ["CLAIM_FILE", "check_output_folder", "claim_output_folder", "simulate"]

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:/")  # s3://, gs://, hdfs:// (a Path keeps one /)
CLAIM_FILE = ".claimed"  # in a run folder while a run writes it


def _resolve(
    scenario: str | Path | Scenario,
    citizens: int | None,
    days: int | None,
    overrides: Mapping[str, Any] | None = None,
) -> Scenario:
    s = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return apply_overrides(s, overrides or {}).with_sizes(citizens=citizens, days=days)


def check_output_folder(out: Path) -> None:
    """Raise :class:`RunError` unless ``out`` is missing or an empty folder."""
    if (out / CLAIM_FILE).exists():
        raise RunError(
            f"output folder '{out}' is taken by another run writing to it; choose another --out"
        )
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise RunError(
            f"output folder '{out}' already exists and is not empty; choose another "
            f"--out, or delete it first"
        )


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
        raise RunError(
            f"output folder '{out}' is taken by another run writing to it; choose another --out"
        ) from None
    except OSError as exc:
        raise RunError(
            f"cannot make output folder '{out}': {exc.strerror}; choose another --out"
        ) from None
    if any(p.name != CLAIM_FILE for p in out.iterdir()):  # filled between the check and here
        (out / CLAIM_FILE).unlink(missing_ok=True)
        raise RunError(
            f"output folder '{out}' is taken by another run writing to it; choose another --out"
        )
    return created


def simulate(
    scenario: str | Path | Scenario = "reference",
    *,
    citizens: int | None = None,
    days: int | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    progress: Callable[[int], None] | bool | None = None,
    blocks: int = 1,
    workers: int = 0,
    ray_address: str | None = None,
    checkpoint_every: int = 0,
    resume: bool = False,
    shared_out: bool = False,
    set: Mapping[str, Any] | None = None,
    threads: bool = True,
    profile: bool = False,
) -> Run:
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
            :mod:`xinyong.scenario.overrides`); the run records them in its summary.
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
        raise RunError(
            f"--out '{out}' is a URI, and a run is written to a folder (object "
            f"stores are not supported yet): on a cluster, give a folder on a "
            f"filesystem every node mounts at the same path (NFS, a cluster "
            f"filesystem)"
        )
    if progress is True:
        with days_bar(
            f"{chosen.name}: {chosen.citizens:,} citizens", chosen.days, twin=has_twin(chosen)
        ) as bar:
            return simulate(
                chosen,
                seed=seed,
                out=out,
                progress=bar,
                blocks=blocks,
                workers=workers,
                ray_address=ray_address,
                checkpoint_every=checkpoint_every,
                resume=resume,
                shared_out=shared_out,
                threads=threads,
                profile=profile,
            )
    progress = progress or None
    folder = Path(out) if out is not None else None
    on_ray = workers > 0 or ray_address is not None
    created = False
    if profile and on_ray:
        raise RunError(
            "--profile times a run in this process: leave out --workers (Ray "
            "workers' days are timed by Ray's own dashboard)"
        )
    ray = require_ray() if on_ray else None  # before anything is written: nothing to undo
    if resume:
        if not on_ray:
            raise RunError(
                "only a run on Ray workers checkpoints: resume with the same "
                "--workers N it was started with"
            )
        if folder is None or latest_checkpoint(folder, workers) is None:
            raise RunError(
                f"nothing to resume in '{folder}': no whole checkpoint of a {workers}-worker "
                f"run (none completed, or each is damaged or cut short); run it again without "
                f"--resume, in an empty folder"
            )
    elif folder is not None:
        created = claim_output_folder(folder)
    try:
        if ray is not None:  # join the cluster, and check its nodes can all write the output
            connect(ray, ray_address)
            check_output(ray, folder, shared_out)
        return _simulate(
            chosen,
            seed,
            folder,
            progress,
            blocks,
            workers,
            ray_address,
            checkpoint_every,
            resume,
            on_ray,
            overrides,
            threads,
            PhaseClock() if profile else None,
        )
    except BaseException as exc:
        # A failed run leaves no summary, and no folder unless it can be resumed from.
        written = _size(folder) if folder is not None else 0
        if folder is not None and not resume and not checkpoint_every:
            _remove_run(folder, created)
        if folder is not None and disk_full(exc):
            raise _no_room(folder, written) from None
        raise
    finally:
        if folder is not None:
            (folder / CLAIM_FILE).unlink(missing_ok=True)


def _size(folder: Path) -> int:
    """Bytes of the files under ``folder`` (what a run wrote so far)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _no_room(folder: Path, written: int) -> RunError:
    """The one-line error for a run that filled its disk: the folder, and the room to make.

    The room is an estimate: a run's store takes what the failed run had written, again as
    much to fold its write-ahead log into the store at the end, and a margin."""
    needed = 2 * written + 64 * 2**20
    return RunError(
        f"the disk holding '{folder}' is full: the run had written "
        f"{math.ceil(written / 2**20)} MiB when it failed; free at least "
        f"{math.ceil(needed / 2**20)} MiB there (or choose another --out) and run it again. "
        f"Nothing was saved as finished."
    )


def _remove_run(folder: Path, created: bool) -> None:
    """Remove what a failed run wrote (the folder too if it made it)."""
    for path in [
        folder / SUMMARY_FILE,
        folder / STORE_FILE,
        folder / (STORE_FILE + ".wal"),
        folder / CLAIM_FILE,
    ]:
        path.unlink(missing_ok=True)
    shutil.rmtree(folder / DATA, ignore_errors=True)
    if created:
        shutil.rmtree(folder, ignore_errors=True)


def _simulate(
    chosen: Scenario,
    seed: int,
    folder: Path | None,
    progress: Callable[[int], None] | None,
    blocks: int,
    workers: int,
    ray_address: str | None,
    checkpoint_every: int,
    resume: bool,
    on_ray: bool,
    overrides: Mapping[str, Any],
    threads: bool,
    clock: PhaseClock | None = None,
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
        store = timed(
            "store: created", RunStore.create, folder / STORE_FILE if folder else None, chosen, seed
        )
        if overrides:
            store.set_info(overrides=json.dumps(overrides))
    scratch = None
    if on_ray or blocks > 1:  # the blocks write a Parquet dataset; the driver adds tallies
        if folder is not None:
            root = folder
        else:
            scratch = tempfile.TemporaryDirectory(prefix="xinyong-run-")
            root = Path(scratch.name)
        if not resume:
            prepare(root / DATA)
        if on_ray:
            tally = run_on_ray(
                chosen,
                seed,
                max(workers, 1),
                partial(BlockDataset, (root / DATA).absolute()),  # workers may be elsewhere
                ray_address,
                progress,
                folder,
                checkpoint_every,
            )
        else:
            split = timed(
                "set-up", SplitCity, chosen, seed, blocks, partial(BlockDataset, root / DATA)
            )
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
        store_whole(chosen, seed, store, tally, tables, threads, timed)
    summary = write_summary(chosen, seed, store, folder, tally, started, timed)
    run = Run(store, summary, folder, scratch)
    if clock is not None:
        run.profile = clock.rows(time.perf_counter() - started)
    return run


#: ``timed(name, fn, *args)``: ``fn(*args)``, on a profile's clock if the run has one.
Timed = Callable[..., Any]


def _untimed(name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


def store_whole(
    chosen: Scenario,
    seed: int,
    store: RunStore,
    tally: Tally,
    tables: Mapping[str, pd.DataFrame | None],
    threads: bool,
    timed: Timed = _untimed,
) -> None:
    """Write what a whole city (one block) left besides its ledger: the behaviour-only twin's
    occurrences (the twin run here, over ``chosen.days``, unless the city kept its own), the
    daily series and the subject tables."""
    if tally.twin_daily is None:
        tally.twin_daily = timed(
            "twin (behaviour only)", twin_occurrences, chosen, seed, threads=threads
        )
    timed("store: tables", store.finish, {**daily_tables(chosen, tally), **tables})


def write_summary(
    chosen: Scenario,
    seed: int,
    store: RunStore,
    folder: Path | None,
    tally: Tally,
    started: float,
    timed: Timed = _untimed,
) -> dict[str, Any]:
    """The run's summary, stored with the status complete, and written to ``summary.json``
    last (atomically: its presence means the run is complete).

    Raises:
        RunError: a figure is not a number (NaN).
    """
    summary = timed("summary", summarize, chosen, seed, chosen.days, tally)
    if chosen.record is not None and chosen.start is not None:  # the published record's figures
        summary["record"] = record_rows(chosen, tally, chosen.days, load_record("record"))
        summary["about"]["record"] = (
            "each figure of the published record (xinyong/sources/record.toml) this run "
            f"covers, at its date: published, and simulated scaled from {chosen.citizens:,} "
            f"citizens to {chosen.record.country:,.0f} people, with the 95 % interval of "
            "the run's own count (Poisson)"
        )
    recorded = json.loads(store.info().get("overrides", "{}"))
    if recorded:
        summary["overrides"] = recorded
    summary["wall_seconds"] = round(time.perf_counter() - started, 3)
    try:  # a figure that is not a number is a failed run, not a summary
        text = json.dumps(summary, indent=2, allow_nan=False)
    except ValueError:
        bad = sorted(k for k, v in summary.items() if isinstance(v, float) and v != v)
        raise RunError(
            f"the run's figures {', '.join(bad) or ''} are not numbers (NaN): "
            f"check the scenario's values"
        ) from None
    rows = store.con.execute("SELECT count(*) FROM ledger_rows").fetchall()[0][0]
    timed(
        "store: summary written",
        store.set_info,
        status="complete",
        summary=json.dumps(summary),
        ledger_rows=str(rows),  # what a reader checks the ledger (a dataset's files) against
    )
    timed("store: checkpoint", store.con.execute, "CHECKPOINT")
    if folder is not None:
        tmp = folder / (SUMMARY_FILE + ".tmp")
        tmp.write_text(text + "\n", encoding="utf-8")
        os.replace(tmp, folder / SUMMARY_FILE)  # atomic: the summary's presence means complete
    return summary
