"""The classroom in the live city: seats, choices and policy changes stored before they are
answered, so a restart gives every one back; one choice a seat a day; a policy change made
mid-lesson acts from its day, also in a city rebuilt from a snapshot older than it."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import consequence_city

from xinyong.service.classroom import NOTHING, Classroom
from xinyong.service.live import LiveCity, LiveError


def _city(folder: Path, snapshot_every: int = 10) -> LiveCity:
    return LiveCity(folder, consequence_city(citizens=600, days=30), 3, snapshot_every)


def test_seats_choices_and_a_policy_change_survive_a_restart(tmp_path: Path) -> None:
    live = _city(tmp_path / "city")
    room = Classroom(live, 4)
    assert len({s.citizen for s in room.seats}) == 4
    first, second = room.seats[0], room.seats[1]
    room.act(first, "jaywalking")
    room.act(second, NOTHING)
    with pytest.raises(LiveError, match="chosen for day 0 already") as again:
        room.act(first, "volunteering")
    assert again.value.status == 409
    with pytest.raises(LiveError, match="unknown citizen behaviour") as unknown:
        room.act(second, "flying")
    assert unknown.value.status == 422
    live.advance(3)  # snapshots at day 0 and 10: none after the change
    assert live.change({"sensors.camera.misidentify": 0.3}, "cameras misidentify 30 %") == 3
    with pytest.raises(LiveError, match="did you mean 'camera'") as bad:
        live.change({"sensors.camra.misidentify": 0.3}, "typo")
    assert bad.value.status == 422
    room.act(first, "jaywalking")
    live.advance(2)
    before = (live.stats(), room.report(), live.record(first.citizen))
    keys = room.keys()
    live.close()

    again_live = _city(tmp_path / "city")  # rebuilt from day 0: the change on day 3 again
    again_room = Classroom(again_live, 4)
    assert again_room.keys() == keys
    after = (again_live.stats(), again_room.report(), again_live.record(first.citizen))
    assert [(t["day"], t["what"]) for t in after[1]["timeline"]] == [
        (3, "cameras misidentify 30 %")
    ]
    assert after[1]["actions"] == before[1]["actions"] == 3
    assert after[1]["actions_by_seat"] == {"1": 2, "2": 1}
    drop = ("as_of_day", "open_day", "submitted", "wall_seconds")
    assert {k: v for k, v in after[0].items() if k not in drop} == {
        k: v for k, v in before[0].items() if k not in drop
    }  # the change acted on day 3 again, not from the snapshot's day or never
    assert after[2]["operators"] == before[2]["operators"]
    with pytest.raises(LiveError, match="seats a class of 4 already"):
        Classroom(again_live, 5)
    again_live.close()


def test_a_change_made_live_acts_as_the_dated_change(tmp_path: Path) -> None:
    live = _city(tmp_path / "live", snapshot_every=0)
    live.advance(3)
    live.change({"sensors.camera.misidentify": 0.3}, "cameras misidentify 30 %")
    live.advance(4)
    scenario = consequence_city(citizens=600, days=30)
    dated = scenario.model_copy(update={"timeline": list(live.scenario.timeline)})
    other = LiveCity(tmp_path / "dated", dated, 3, 0)
    other.advance(7)
    drop = ("as_of_day", "open_day", "submitted", "wall_seconds")
    a, b = live.stats(), other.stats()
    assert {k: v for k, v in a.items() if k not in drop} == {
        k: v for k, v in b.items() if k not in drop
    }
    plain = LiveCity(tmp_path / "plain", scenario, 3, 0)
    plain.advance(7)
    assert a["events_misattributed"] > plain.stats()["events_misattributed"]
    for city in (live, other, plain):
        city.close()
