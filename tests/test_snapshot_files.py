"""The snapshot folder's clean-up against writers on other threads."""

from __future__ import annotations

from pathlib import Path

import pytest

from xinyong.records.snapshots import SNAPSHOTS, Pending, remove_unlisted


def test_a_file_begun_while_the_clean_up_runs_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A re-simulation writes snapshots holding no lock while an advance cleans the folder:
    a file named pending and created in the middle of a clean-up must survive it (seen in CI
    as a re-simulation's snapshot deleted under it)."""
    where = tmp_path / SNAPSHOTS
    where.mkdir()
    (where / "stale.city").write_bytes(b"old")
    (where / "listed.city").write_bytes(b"kept")
    pending = Pending()
    names = Pending.names

    def a_writer_begins_meanwhile(self: Pending) -> set[str]:
        seen = names(self)
        self.add("new.city")  # as write_snapshot does, before it creates the file
        (where / "new.city.tmp").write_bytes(b"being written")
        return seen

    monkeypatch.setattr(Pending, "names", a_writer_begins_meanwhile)
    remove_unlisted(tmp_path, {"listed.city"}, pending)
    assert sorted(p.name for p in where.iterdir()) == ["listed.city", "new.city.tmp"]


def test_files_neither_listed_nor_pending_are_removed(tmp_path: Path) -> None:
    where = tmp_path / SNAPSHOTS
    where.mkdir()
    for name in ("a.city", "b.city", "c.city.tmp", "d.city.tmp"):
        (where / name).write_bytes(b"x")
    pending = Pending()
    pending.add("d.city")
    remove_unlisted(tmp_path, {"a.city"}, pending)
    assert sorted(p.name for p in where.iterdir()) == ["a.city", "d.city.tmp"]
    pending.discard(["d.city"])
    remove_unlisted(tmp_path, {"a.city"}, pending)
    assert sorted(p.name for p in where.iterdir()) == ["a.city"]
    remove_unlisted(tmp_path / "nowhere", set(), pending)  # no folder yet: nothing to do
