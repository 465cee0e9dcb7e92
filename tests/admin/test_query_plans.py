"""The admin's queries go through indexes, so a page load costs the same on a ledger of years as on a new one; and
an old ledger gets the indexes when it is opened."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from admin_ledger import T0, land, quarantine
from sql_plans import full_scans, plans, statements
from sqlalchemy import inspect, text

from brygga.admin import QuarantineFilter, SearchQuery, count, health, quarantine_groups, quarantined, search, trace
from brygga.ledger import Ledger, State

NEW_INDEXES = {("submissions", "ix_submissions_received_at"), ("submissions", "ix_submissions_content_sha256"),
               ("deliveries", "ix_deliveries_last_attempt_at")}


@pytest.fixture
def filled(ledger):  # type: ignore[no-untyped-def]
    """Enough rows of each kind that SQLite would not rather read them all; one of them delivered with a
    diarienummer, one quarantined."""
    ids = [land(ledger, f"Ansokan-{n}.xml", reference=str(4000 + n), received_at=T0 + timedelta(minutes=n),
                state=State.COMPLETED, canonical_json='{"caseType": "bygglov"}') for n in range(200)]
    claim = ledger.claim_delivery(submission_id=ids[7], target="ecos", idempotency_key="k-ecos", owner="w", now=T0)
    ledger.complete_delivery("k-ecos", "MB 2026-77")
    ledger.update(ids[8], external_ref="BN 2026-000042")
    stuck = quarantine(ledger, "stuck.xml", "deliver", ["target byggr unavailable"])
    assert claim.outcome == "go"
    return {"ids": ids, "stuck": stuck}


def _search_and_count(ledger, query: SearchQuery):  # type: ignore[no-untyped-def]
    return lambda: (search(ledger, query), count(ledger, query))


@pytest.mark.parametrize("what", ["id", "reference", "diarienummer", "a target's reference", "sha256",
                                  "sha256 prefix"])
def test_an_exact_text_is_looked_up_through_its_index(ledger, filled, what):
    sid = filled["ids"][7 if what == "a target's reference" else 8]
    sha = ledger.get(sid).content_sha256
    text_of = {"id": sid, "reference": "4008", "diarienummer": "BN 2026-000042", "a target's reference": "MB 2026-77",
               "sha256": sha, "sha256 prefix": sha[:10]}
    query = SearchQuery(text=text_of[what])
    assert [row.id for row in search(ledger, query)] == [sid] and count(ledger, query) == 1
    assert full_scans(ledger, _search_and_count(ledger, query)) == []


def test_only_a_text_nothing_holds_whole_is_looked_for_in_file_names(ledger, filled):
    query = SearchQuery(text="ansokan-19")
    assert {row.id for row in search(ledger, query, limit=500)} == {filled["ids"][19]} | set(
        filled["ids"][190:200])
    assert full_scans(ledger, _search_and_count(ledger, query)) != [], "a part of a name is read row by row"


def test_the_newest_page_is_read_in_the_order_of_an_index(ledger, filled):
    read = plans(ledger, lambda: search(ledger, SearchQuery(), limit=20))
    # Newest first straight off the index, stopping at the page's end: no sort of every row.
    assert any(line.startswith("SCAN submissions USING INDEX ix_submissions_received_at") for line in read), read
    assert not any("TEMP B-TREE FOR ORDER BY" in line for line in read), read


def test_filters_use_indexes(ledger, filled):
    for query in (SearchQuery(since=T0 + timedelta(minutes=150), until=T0 + timedelta(minutes=160)),
                  SearchQuery(state=State.QUARANTINED), SearchQuery(person_key="a" * 64)):
        assert full_scans(ledger, _search_and_count(ledger, query)) == [], query


def test_health_and_the_quarantine_read_no_whole_table(ledger, filled):
    assert full_scans(ledger, lambda: health(ledger, since=T0 + timedelta(hours=3), now=T0 + timedelta(hours=4))) == []
    assert full_scans(ledger, lambda: quarantine_groups(ledger, QuarantineFilter(route="kumla-bygglov"))) == []


def test_rows_are_read_without_the_canonical_case(ledger, filled):
    with statements(ledger) as seen:
        search(ledger, SearchQuery())
        quarantined(ledger)
        trace(ledger, filled["stuck"])
    lists = [statement for statement, _ in seen if "canonical_json" in statement]
    # The trace reads its one submission whole (is it purged?); no list reads a case.
    assert len(lists) == 1 and "WHERE submissions.id = ?" in " ".join(lists[0].split())


def test_a_new_ledger_has_the_indexes_and_no_duplicate(ledger):
    found = inspect(ledger.engine)
    names = {(table, index["name"]) for table in ("submissions", "deliveries")
             for index in found.get_indexes(table)}
    assert names >= NEW_INDEXES
    # The unique key (submission_id, key) serves lookups by submission: no second index on submission_id.
    assert [(i["name"], i["column_names"]) for i in found.get_indexes("person_keys")] == [
        ("ix_person_keys_key", ["key"])]
    (unique,) = found.get_unique_constraints("person_keys")
    assert unique["column_names"] == ["submission_id", "key"]


def test_an_old_ledger_gets_the_indexes_when_it_is_opened(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    old = Ledger(url)
    with old.engine.begin() as conn:
        for _, name in NEW_INDEXES:
            conn.execute(text(f"DROP INDEX {name}"))
    old.engine.dispose()
    again = Ledger(url)
    found = inspect(again.engine)
    names = {(table, index["name"]) for table in ("submissions", "deliveries") for index in found.get_indexes(table)}
    assert names >= NEW_INDEXES
    again.engine.dispose()
