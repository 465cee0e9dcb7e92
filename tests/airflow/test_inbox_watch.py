"""When the inbox watcher owes its route a run (brygga_airflow.inbox_watch, fired by InboxArrivalTrigger)."""

from __future__ import annotations

from pathlib import Path

from brygga_airflow.inbox_watch import fire_reason, new_arrivals, scan

A, B, C = ("a.xml", 1, 1), ("b.xml", 2, 2), ("c.xml", 3, 3)


def test_new_files_fire_and_a_restart_fires_for_everything_waiting():
    assert new_arrivals(frozenset({A}), frozenset({A, B})) == {B}
    assert new_arrivals(None, frozenset({A})) == {A}
    assert fire_reason(frozenset({A}), frozenset({A, B}), since_fired=0.0) == "1 new file(s)"
    assert fire_reason(None, frozenset({A, B}), since_fired=0.0) == "2 new file(s)"


def test_a_run_that_took_a_full_batch_and_left_the_rest_fires_again_at_once():
    # 3 waited, a run's intake took 2 (its batch_size): the last one must not wait for the cron safety net.
    assert fire_reason(frozenset({A, B, C}), frozenset({C}), since_fired=1.0) == "2 taken in, the rest still waiting"


def test_files_that_wait_on_fire_again_after_the_refire_interval_and_not_before():
    waiting = frozenset({A})
    assert fire_reason(waiting, waiting, since_fired=59.0, refire_after=60.0) is None
    assert fire_reason(waiting, waiting, since_fired=61.0, refire_after=60.0) == "files waiting for 61 s"


def test_an_empty_inbox_never_fires():
    assert fire_reason(frozenset({A}), frozenset(), since_fired=1e6) is None
    assert fire_reason(None, frozenset(), since_fired=1e6) is None


def test_the_scan_sees_what_intake_would_take_and_a_new_file_under_an_old_name(tmp_path: Path):
    (tmp_path / "a.xml").write_text("<x/>")
    (tmp_path / ".hidden.xml").write_text("x")
    (tmp_path / "note.txt").write_text("x")
    first = scan(str(tmp_path), "*.xml")
    assert [name for name, _, _ in first] == ["a.xml"]
    (tmp_path / "a.xml").unlink()
    (tmp_path / "b.xml").write_text("<y/>")  # may reuse a.xml's inode: the name and mtime still tell it apart
    (tmp_path / "a.xml").write_text("<z/>")
    assert {name for name, _, _ in new_arrivals(first, scan(str(tmp_path), "*.xml"))} >= {"b.xml"}
