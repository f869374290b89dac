"""The live city in process: exact appeals, bounded restarts, unique event ids, and what
concurrent readers see while the city advances."""

from __future__ import annotations

import pickle
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import city_differences, city_state, consequence_city

from xinyong.engine.city import City
from xinyong.engine.twin import keep_twin, twin_occurrences
from xinyong.scenario import Scenario
from xinyong.service.live import LiveCity, LiveError, Submission

SEVERE = "contract_breach_judgment"  # lists the citizen as a dishonest debtor for 1095 days


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return consequence_city(citizens=2000, days=40)


def _adult(live: LiveCity) -> int:
    """A citizen the city's scheme scores (18 or older)."""
    pop = live.city.population
    assert pop is not None
    return int(np.flatnonzero(pop.age >= 30)[3])


def _appealed(live: LiveCity, days: int) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """A court's severe event about an adult, the city advanced ``days`` days, and an appeal
    filed against it: the citizen, the event as the record shows it, and the appeal."""
    who = _adult(live)
    live.submit([Submission("x1", who, SEVERE)], "court")
    live.advance(days)
    event = next(e for e in live.record(who)["operators"][0]["ledger"] if e["behaviour"] == SEVERE)
    return who, event, live.file_appeal(who, event["event"], "not me")


def test_an_upheld_appeal_leaves_the_city_that_never_had_the_event(
    tmp_path: Path, scenario: Scenario
) -> None:
    """City A: a court judgment is submitted against a citizen on day 2 and upheld on appeal
    on day 14. City B: it was never submitted. Everything after the decision — every score,
    grade, listing and term, the lists, gates, notices, responses and the behaviour calendar
    (no pair filed twice) — is the same in both; A's ledger holds the event flagged reversed."""
    a = LiveCity(tmp_path / "a", scenario, seed=5, snapshot_every=4)
    b = LiveCity(tmp_path / "b", scenario, seed=5, snapshot_every=4)
    try:
        who = _adult(a)
        a.advance(2)
        b.advance(2)
        a.submit([Submission("court-1", who, SEVERE)], "court")
        a.advance(12)
        b.advance(12)
        city = next(op for op in a.record(who)["operators"])
        assert city["listed"] or city["lists"], "the judgment should have listed the citizen"
        event = next(
            e
            for e in city["ledger"]
            if e["behaviour"] == SEVERE
            and e["day"] == 2
            and "submitted through the API" in e["notes"]
        )
        assert city_differences(a.city, b.city), "the event should have changed the city"
        appeal = a.file_appeal(who, event["event"], "the judgment names someone else")
        assert a.decide_appeal(appeal["appeal"], uphold=True)["status"] == "upheld"
        assert city_differences(a.city, b.city) == []
        assert a.gate("rail", who) == b.gate("rail", who)
        assert a.notices(1000) == b.notices(1000)
        after = a.record(who)["operators"][0]
        assert after["score"] == after["replayed_score"] == b.record(who)["operators"][0]["score"]
        reversed_ = [
            e["event"] for e in after["ledger"] if "reversed on appeal: not counted" in e["notes"]
        ]
        assert reversed_ == [event["event"]]
        ledger = (
            "SELECT day, operator, subject, actor, behaviour, points, flags & 7 AS f "
            "FROM ledger_rows {} ORDER BY ALL"
        )
        kept = a.store.con.execute(ledger.format("WHERE flags & 16 = 0")).fetchall()
        assert kept == b.store.con.execute(ledger.format("")).fetchall()
        a.advance(5)  # and the days after go on alike
        b.advance(5)
        assert city_differences(a.city, b.city) == []
    finally:
        a.close()
        b.close()


def test_event_ids_are_unique_and_name_one_row(tmp_path: Path, scenario: Scenario) -> None:
    live = LiveCity(tmp_path / "c", scenario, seed=2)
    try:
        who = _adult(live)
        live.submit([Submission(f"twice-{i}", who, "jaywalking") for i in range(2)], "cam")
        live.advance(3)
        ids = [e["event"] for op in live.record(who)["operators"] for e in op["ledger"]]
        twice = [i for i in ids if i.startswith("0.") and f".{who}.{who}." in i]
        assert len(ids) == len(set(ids)) and len(twice) >= 2
        filed = live.file_appeal(who, twice[0], "one of the two")
        live.decide_appeal(filed["appeal"], uphold=True)
        after = [
            e
            for op in live.record(who)["operators"][:1]
            for e in op["ledger"]
            if e["event"] in twice
        ]
        assert [e["counted"] for e in after] == [False, True]  # the one appealed, only
        with pytest.raises(LiveError) as again:
            live.file_appeal(who, twice[0], "again")
        assert again.value.status == 409
    finally:
        live.close()


def test_a_restart_loads_the_last_snapshot_and_replays_only_what_follows(
    tmp_path: Path, scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = LiveCity(tmp_path / "r", scenario, seed=4, snapshot_every=5)
    who = _adult(live)
    live.advance(7)
    live.submit([Submission("late-1", who, SEVERE)], "court")
    live.advance(5)
    live.submit([Submission("open-1", who, "jaywalking")], "cam")
    before = city_state(live.city)
    live.close()

    steps: list[int] = []
    observe = City.observe  # every day of every loop starts here (the twin's: no operators)
    monkeypatch.setattr(
        City,
        "observe",
        lambda self: (steps.append(self.day) if self.operators else None, observe(self))[1],
    )
    again = LiveCity(tmp_path / "r")
    try:
        assert again.day == 12 and steps == [10, 11]  # from the day-10 snapshot
        assert city_state(again.city) == before
        assert again.record(who)["pending"][0]["client_id"] == "open-1"
    finally:
        again.close()


def test_readers_see_whole_days_while_the_city_advances(tmp_path: Path, scenario: Scenario) -> None:
    live = LiveCity(tmp_path / "w", scenario, seed=1)
    who = _adult(live)
    live.submit([Submission(f"s{i}", who, "jaywalking") for i in range(3)], "cam")
    seen: list[tuple[int, int, int]] = []
    errors: list[BaseException] = []
    job = live.start_advance(25)

    def read() -> None:
        try:
            while job.status == "running":
                record = live.record(who)
                op = record["operators"][0]
                seen.append((record["day"], op["score"], op["replayed_score"]))
                live.gate("rail", who)
                live.stats()
        except BaseException as exc:
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(4)]
    for r in readers:
        r.start()
    with pytest.raises(LiveError) as second:
        live.start_advance(1)
    assert second.value.status == 409 and "is running" in str(second.value)
    for r in readers:
        r.join()
    try:
        assert not errors, errors
        assert job.status == "done" and live.day == 25
        assert len(seen) > 10 and all(score == replayed for _, score, replayed in seen)
        with pytest.raises(LiveError) as past_the_end:
            live.advance(16)  # the city has 40 days: refused before anything is simulated
        assert past_the_end.value.status == 409 and live.day == 25
    finally:
        live.close()


def test_a_failed_decision_rolls_back_and_the_store_goes_on(
    tmp_path: Path, scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = LiveCity(tmp_path / "f", scenario, seed=1)
    try:
        who, _, filed = _appealed(live, 2)
        before = live.record(who)

        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("disk full")

        monkeypatch.setattr(live.store, "append", broken)  # the re-simulated ledger fails
        with pytest.raises(RuntimeError):
            live.decide_appeal(filed["appeal"], uphold=True)
        monkeypatch.undo()
        assert live.appeal(filed["appeal"])["status"] == "filed"  # type: ignore[index]
        assert live.record(who) == before
        assert live.decide_appeal(filed["appeal"], uphold=True)["status"] == "upheld"
        live.submit([Submission("x2", who, "jaywalking")], "cam")
        assert live.advance(1) == 3
    finally:
        live.close()


def test_readers_go_on_while_an_upheld_appeal_rewrites_the_ledger(
    tmp_path: Path, scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger's rewrite is a transaction no reader sees: records and stats are answered
    meanwhile, from the city and ledger as they were; readers wait only for the commit and
    the swap of the city."""
    live = LiveCity(tmp_path / "r", scenario, seed=1)
    try:
        who, event, filed = _appealed(live, 3)
        appeal = filed["appeal"]
        rewriting, answered = threading.Event(), threading.Event()
        transaction = live.store.transaction

        @contextmanager
        def slow(*args: Any, **kwargs: Any) -> Iterator[Any]:
            with transaction(*args, **kwargs) as con:
                yield con
                if threading.current_thread() is decision:  # rewritten, not yet committed
                    rewriting.set()
                    answered.wait(timeout=30)

        monkeypatch.setattr(live.store, "transaction", slow)
        decision = threading.Thread(target=live.decide_appeal, args=(appeal, True))
        decision.start()
        assert rewriting.wait(timeout=60)
        seen: list[Any] = []
        reader = threading.Thread(target=lambda: seen.extend([live.stats(), live.record(who)]))
        reader.start()
        reader.join(timeout=10)
        held = reader.is_alive()
        answered.set()
        decision.join()
        assert not held, "a reader waited for the ledger's rewrite"
        ledger = seen[1]["operators"][0]["ledger"]
        assert any(e["event"] == event["event"] and e["counted"] for e in ledger)  # as it was
        assert live.appeal(appeal)["status"] == "upheld"  # type: ignore[index]
        assert not any(
            e["event"] == event["event"] and e["counted"]
            for e in live.record(who)["operators"][0]["ledger"]
        )
    finally:
        live.close()


def test_appeals_are_filed_while_the_writer_is_held(tmp_path: Path, scenario: Scenario) -> None:
    """Filing an appeal does not wait for the city's writer (a day being simulated, an upheld
    appeal being installed): it is stored and answered, a second against the same event is
    refused while the first is filed, and the appeal is there after a restart."""
    from concurrent.futures import ThreadPoolExecutor

    live = LiveCity(tmp_path / "f", scenario, seed=1)
    try:
        who = _adult(live)
        live.submit([Submission("x1", who, SEVERE)], "court")
        live.advance(3)
        event = next(
            e for e in live.record(who)["operators"][0]["ledger"] if e["behaviour"] == SEVERE
        )
        with ThreadPoolExecutor(max_workers=1) as pool, live.locks.writer:
            filed = pool.submit(live.file_appeal, who, event["event"], "not me").result(timeout=30)
            assert filed["status"] == "filed"
            again = pool.submit(live.file_appeal, who, event["event"], "again")
            with pytest.raises(LiveError, match="already under appeal"):
                again.result(timeout=30)
    finally:
        live.close()
    reopened = LiveCity(tmp_path / "f")
    try:
        assert reopened.appeal(filed["appeal"])["status"] == "filed"  # type: ignore[index]
    finally:
        reopened.close()


def test_stats_are_computed_once_for_many_asking_at_once(
    tmp_path: Path, scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many requests for figures older than a day: one computes them, the others wait for
    its result instead of each computing them again at once."""
    from concurrent.futures import ThreadPoolExecutor

    live = LiveCity(tmp_path / "s", scenario, seed=1)
    try:
        live.advance(3)
        with live.locks.state.read():
            assert live.stats()["as_of_day"] == 3  # the advance's last day computed them
        live.figures.cached = None  # none to serve, as when history has just been rewritten
        summary, calls = live.city.summary, []

        def slow() -> dict[str, Any]:
            calls.append(1)
            time.sleep(0.2)
            return summary()

        monkeypatch.setattr(live.city, "summary", slow)
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda _: live.stats(), range(8)))
        assert len(calls) == 1
        assert {a["as_of_day"] for a in answers} == {3}
    finally:
        live.close()


def test_a_submission_while_a_day_is_simulated_joins_the_next_day(
    tmp_path: Path, scenario: Scenario
) -> None:
    """The inbox does not wait for the day being simulated: once a day's simulation has begun
    (under the writer), a submission is stored for the next day, counts on that day, and is
    replayed on it after a restart."""
    live = LiveCity(tmp_path / "n", scenario, seed=1)
    try:
        who = _adult(live)
        live.advance(2)
        with live.locks.writer:  # as an advance holds it for day 2, which it has closed
            live.inbox.close_day(live.day)
            receipt = live.submit([Submission("late-1", who, SEVERE)], "court")[0]
        assert (receipt.status, receipt.day, live.day) == ("accepted", 3, 2)
        live.advance(2)
        days = [
            e["day"]
            for e in live.record(who)["operators"][0]["ledger"]
            if e["behaviour"] == SEVERE and "submitted through the API" in e["notes"]
        ]
        assert days == [3]
    finally:
        live.close()
    again = LiveCity(tmp_path / "n")
    try:
        assert again.day == 4 and again.inbox.day == 4
    finally:
        again.close()


def test_records_and_stats_are_read_while_a_day_is_simulated(
    tmp_path: Path, scenario: Scenario
) -> None:
    """Records read the copy made at the end of the last completed day, and stats the figures
    computed once that day: a day being simulated (its arrays under the write lock) does not
    hold them up, and they show that day."""
    live = LiveCity(tmp_path / "v", scenario, seed=1)
    try:
        who = _adult(live)
        live.advance(3)
        before = live.record(who)
        seen: list[dict[str, Any]] = []
        with live.locks.state.write():  # as a day of an advance holds it
            reader = threading.Thread(target=lambda: seen.append(live.record(who)))
            reader.start()
            reader.join(timeout=30)
            held = reader.is_alive()
        reader.join()
        assert not held, "a record waited for the day being simulated"
        assert seen == [before] and before["day"] == 3
        stats = live.stats()  # computed once for the day...
        with live.locks.state.write():  # ...and served while the next is simulated
            reader = threading.Thread(target=lambda: seen.append(live.stats()))
            reader.start()
            reader.join(timeout=30)
            held = reader.is_alive()
        reader.join()
        assert not held, "stats waited for the day being simulated"
        assert seen[-1] == stats and stats["as_of_day"] == stats["open_day"] == 3
    finally:
        live.close()


def test_a_decision_during_an_advance_catches_up(tmp_path: Path, scenario: Scenario) -> None:
    """The re-simulation runs while the city advances; it catches up with the days simulated
    meanwhile, and the result is still the city that never had the event."""
    a = LiveCity(tmp_path / "a", scenario, seed=6, snapshot_every=4)
    b = LiveCity(tmp_path / "b", scenario, seed=6, snapshot_every=4)
    try:
        who = _adult(a)
        a.advance(1)
        b.advance(1)
        a.submit([Submission("court-1", who, SEVERE)], "court")
        a.advance(9)
        b.advance(9)
        event = next(
            e
            for e in a.record(who)["operators"][0]["ledger"]
            if e["behaviour"] == SEVERE and "submitted through the API" in e["notes"]
        )
        appeal = a.file_appeal(who, event["event"], "not me")["appeal"]
        job = a.start_advance(15)
        a.decide_appeal(appeal, uphold=True)
        assert job.thread is not None
        job.thread.join()
        b.advance(15)
        assert a.day == b.day == 25 and city_differences(a.city, b.city) == []
    finally:
        a.close()
    again = LiveCity(tmp_path / "a")  # and a restart reads the same city back
    try:
        assert city_differences(again.city, b.city) == []
    finally:
        again.close()
        b.close()


def test_a_day_that_fails_half_way_is_dropped(
    tmp_path: Path, scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job reports the failure and the city goes back to its last whole day, so the next
    advance gives the city an unbroken run would."""
    a = LiveCity(tmp_path / "a", scenario, seed=7, snapshot_every=4)
    b = LiveCity(tmp_path / "b", scenario, seed=7, snapshot_every=4)
    try:
        observe = City.observe

        def failing(self: City) -> dict:
            events = observe(self)
            if self.day == 6:
                raise MemoryError("out of memory on day 6")
            return events

        monkeypatch.setattr(City, "observe", failing)
        job = a.start_advance(10)
        assert job.thread is not None
        job.thread.join()
        assert job.status == "failed" and "day 6" in str(job.error) and a.day == 6
        monkeypatch.undo()
        a.advance(6)
        b.advance(12)
        assert city_differences(a.city, b.city) == []
        ledger = "SELECT * FROM ledger_rows ORDER BY ALL"
        assert a.store.con.execute(ledger).fetchall() == b.store.con.execute(ledger).fetchall()
    finally:
        a.close()
        b.close()


def test_older_snapshots_are_thinned(tmp_path: Path, scenario: Scenario) -> None:
    live = LiveCity(tmp_path / "t", scenario, seed=1, snapshot_every=2)
    try:
        live.advance(40)
        kept = [d for d, _ in live.history.snapshots(live.store.con)]
        assert kept == [0, 30, 34, 36, 38, 40]  # the recent ones, and one every 30 days
        assert len(list((tmp_path / "t" / "snapshots").iterdir())) == len(kept)
    finally:
        live.close()


def test_notices_filter_by_the_list_that_caused_them(tmp_path: Path, scenario: Scenario) -> None:
    live = LiveCity(tmp_path / "n", scenario, seed=2)
    try:
        live.advance(30)
        every = live.notices(100_000)
        assert {n["list"] for n in every if n["kind"] == "billboard"} == {None}
        named = {n["list"] for n in every} - {None}
        assert len(named) >= 2, named  # a filter has something to leave out
        for name in named:
            mine = live.notices(100_000, on_list=name)
            assert mine == [n for n in every if n["list"] == name]
        total, latest = live.notice_feed(3, kind="billboard", from_day=10, to_day=20)
        assert total == sum(n["kind"] == "billboard" and 10 <= n["day"] <= 20 for n in every)
        assert len(latest) == 3 and all(10 <= n["day"] <= 20 for n in latest)
        with pytest.raises(LiveError) as unknown:
            live.notices(10, on_list="detbors")
        assert unknown.value.status == 404
        assert "choose one of city:listing, debtors, low-scorers" in str(unknown.value)
    finally:
        live.close()


def test_the_live_city_keeps_its_twin_through_a_restart(tmp_path: Path, scenario: Scenario) -> None:
    """The chilling effect of the live city: its behaviour-only twin is the one a whole run
    runs (same seed, the same draws), day by day, and a restart brings it back from the last
    snapshot with the city. (An upheld appeal's re-simulation keeps it too: the appeal tests
    compare every array of the city, the twin's among them.)"""
    from xinyong.engine.chilling import chilling_detail

    whole = twin_occurrences(scenario, 3)
    assert whole is not None
    names = [b.name for b in scenario.behaviours]
    live = LiveCity(tmp_path / "t", scenario, seed=3, snapshot_every=5)
    assert live.stats()["chilling_detail"] == {}  # day 0: nothing done yet
    live.advance(12)
    assert live.city.twin is not None and live.city.twin.day == 12
    assert np.array_equal(live.city.twin.occurrences(), whole[:12])
    detail = live.stats()["chilling_detail"]
    assert (
        detail
        == chilling_detail(names, live.city.occurrences().sum(axis=0), whole[:12].sum(axis=0))
        != {}
    )
    live.close()
    again = LiveCity(tmp_path / "t")  # from the day-10 snapshot, twin and all
    try:
        assert again.stats()["chilling_detail"] == detail
        again.advance(28)
        assert np.array_equal(again.city.twin.occurrences(), whole)
    finally:
        again.close()


def test_a_snapshot_from_before_twins_gets_one_built_and_caught_up(scenario: Scenario) -> None:
    import pickle

    city = City(scenario, 3, None)
    for _ in range(4):
        city.step()
    del city.twin  # as a city pickled before cities kept twins
    old = pickle.loads(pickle.dumps(city))
    assert old.twin is None
    keep_twin(old)  # what a live city does with every city it loads
    assert old.twin is not None and old.twin.day == 4
    assert np.array_equal(old.twin.occurrences(), twin_occurrences(scenario, 3)[:4])


def test_a_snapshot_of_another_layout_is_passed_over_for_an_older_one(
    tmp_path: Path, scenario: Scenario
) -> None:
    live = LiveCity(tmp_path / "l", scenario, seed=4, snapshot_every=5)
    live.advance(12)
    before = city_state(live.city)
    latest = max((live.folder / "snapshots").glob("day-00010-*.city"))
    live.close()
    city = pickle.loads(latest.read_bytes())
    city.layout = City.LAYOUT - 1  # as a version before this one wrote it
    latest.write_bytes(pickle.dumps(city))
    again = LiveCity(tmp_path / "l")
    try:
        assert again.day == 12 and city_state(again.city) == before  # from day 5's snapshot
    finally:
        again.close()


def test_an_event_is_appealed_at_most_three_times(tmp_path: Path, scenario: Scenario) -> None:
    """A rejected appeal can be made again, but not without end: the fourth is refused with
    the appeals before it named."""
    from xinyong.service.appeals import MAX_APPEALS

    live = LiveCity(tmp_path / "m", scenario, seed=1)
    try:
        who, event, filed = _appealed(live, 2)
        for _ in range(MAX_APPEALS - 1):
            live.decide_appeal(filed["appeal"], uphold=False)
            filed = live.file_appeal(who, event["event"], "again, with a better reason")
        live.decide_appeal(filed["appeal"], uphold=False)
        with pytest.raises(LiveError, match=f"appealed {MAX_APPEALS} times") as refused:
            live.file_appeal(who, event["event"], "and again")
        assert refused.value.status == 409
    finally:
        live.close()


def test_an_appeal_replays_submissions_in_the_order_the_city_met_them(
    tmp_path: Path, scenario: Scenario
) -> None:
    """A re-simulation meets a day's submitted events in the order the city first met them
    (the order stored), not by receipt time and client id: an upheld appeal rewrites the
    day's ledger with the submitted rows in their first order (the fault harness found
    this: seed 2)."""
    live = LiveCity(tmp_path / "o", scenario, seed=3)
    try:
        pop = live.city.population
        assert pop is not None
        adults = [int(c) for c in np.flatnonzero(pop.age >= 30)[3:7]]
        who = adults[0]
        ids = ["z-late", "a-early", "m-middle", "b-second"]
        live.submit(  # one batch, its ids out of their sorted order
            [Submission(cid, c, "jaywalking") for cid, c in zip(ids, adults, strict=True)], "cam"
        )
        live.submit([Submission("x1", who, SEVERE)], "court")
        live.advance(2)
        submitted = (
            "SELECT subject FROM ledger_rows WHERE day = 0 AND operator = 0 AND flags & 8 != 0 "
            "AND behaviour = ? ORDER BY rowid"
        )
        jaywalking = live.behaviours.index("jaywalking")
        before = live.store.con.execute(submitted, [jaywalking]).fetchall()
        assert [r[0] for r in before] == adults  # as met, not by client id
        event = next(
            e for e in live.record(who)["operators"][0]["ledger"] if e["behaviour"] == SEVERE
        )
        appeal = live.file_appeal(who, event["event"], "not me")
        live.decide_appeal(appeal["appeal"], uphold=True)  # day 0 re-simulated and rewritten
        assert live.store.con.execute(submitted, [jaywalking]).fetchall() == before
    finally:
        live.close()
