"""Search: every id an administrator may hold finds the submission, from intake on; filters narrow it."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from admin_ledger import T0, land

from brygga.admin import SearchQuery, count, search
from brygga.ledger import State


@pytest.fixture
def ledger(sql_ledger):  # type: ignore[no-untyped-def]
    """These queries are plain SQL: each test runs on SQLite and on PostgreSQL."""
    return sql_ledger


def _ids(ledger, **query) -> list[str]:  # type: ignore[no-untyped-def]
    return [row.id for row in search(ledger, SearchQuery(**query))]


@pytest.fixture
def two(ledger):  # type: ignore[no-untyped-def]
    """One submission landed only (its reference known from intake), one delivered with a diarienummer."""
    landed = land(ledger, "Ansokan-Bygglov-4711.xml", reference="4711")
    delivered = land(ledger, "other.xml", reference="4712", state=State.COMPLETED, external_ref="BN 2026-000042",
                     received_at=T0 + timedelta(hours=1))
    return landed, delivered


def test_by_submission_id(ledger, two):
    landed, delivered = two
    assert _ids(ledger, text=landed) == [landed]
    assert _ids(ledger, text=delivered) == [delivered]


def test_by_source_reference_before_anything_was_translated(ledger, two):
    landed, _ = two
    assert ledger.get(landed).state == State.LANDED
    assert _ids(ledger, text="4711") == [landed]


def test_by_file_name_whole_or_part_in_any_case(ledger, two):
    landed, _ = two
    assert _ids(ledger, text="Ansokan-Bygglov-4711.xml") == [landed]
    assert _ids(ledger, text="ansokan-bygglov") == [landed]
    assert _ids(ledger, text="BYGGLOV-47") == [landed]


def test_like_wildcards_are_plain_characters(ledger, two):
    assert _ids(ledger, text="%") == []
    assert _ids(ledger, text="_") == []


def test_by_sha256_whole_or_a_prefix_of_eight(ledger, two):
    landed, _ = two
    sha = ledger.get(landed).content_sha256
    assert _ids(ledger, text=sha) == [landed]
    assert _ids(ledger, text=sha[:8].upper()) == [landed]
    assert _ids(ledger, text=sha[:7]) == [], "too short a prefix matches nothing"


def test_by_diarienummer_on_the_submission_or_any_delivery(ledger, two):
    _, delivered = two
    assert _ids(ledger, text="BN 2026-000042") == [delivered]
    claim = ledger.claim_delivery(submission_id=delivered, target="ecos", idempotency_key="k-ecos", owner="w")
    assert claim.outcome == "go"
    ledger.complete_delivery("k-ecos", "MB 2026-77")
    assert _ids(ledger, text="MB 2026-77") == [delivered]


def test_by_route_tenant_and_state(ledger, two):
    landed, delivered = two
    other = land(ledger, "x.xml", route="orebro-bygglov", tenant="1880", state=State.QUARANTINED)
    assert _ids(ledger, route="orebro-bygglov") == [other]
    assert _ids(ledger, tenant="1881") == [delivered, landed]
    assert _ids(ledger, state=State.COMPLETED) == [delivered]
    assert _ids(ledger, state=State.QUARANTINED, tenant="1881") == []


def test_by_time_range_of_receipt(ledger, two):
    landed, delivered = two
    assert _ids(ledger, since=T0 + timedelta(minutes=30)) == [delivered]
    assert _ids(ledger, until=T0 + timedelta(minutes=30)) == [landed]
    assert _ids(ledger, since=T0, until=T0 + timedelta(hours=1)) == [landed], "since inclusive, until exclusive"
    naive = (T0 + timedelta(minutes=30)).replace(tzinfo=None)
    assert _ids(ledger, since=naive) == [delivered], "a naive bound is UTC, as the ledger is"


def test_by_person_key(ledger, two):
    _, delivered = two
    key = hashlib.sha256(b"stands in for an HMAC").hexdigest()
    ledger.add_person_keys(delivered, [key, key])
    assert ledger.add_person_keys(delivered, [key]) == 0, "each key once per submission"
    assert _ids(ledger, person_key=key) == [delivered]
    assert _ids(ledger, person_key="0" * 64) == []


def test_criteria_add_up(ledger, two):
    landed, _ = two
    assert _ids(ledger, text="4711", state=State.LANDED) == [landed]
    assert _ids(ledger, text="4711", state=State.COMPLETED) == []


def test_newest_first_paged_and_counted(ledger):
    ids = [land(ledger, f"{n}.xml", received_at=T0 + timedelta(minutes=n)) for n in range(5)]
    assert _ids(ledger) == ids[::-1]
    page = search(ledger, SearchQuery(), limit=2, offset=2)
    assert [row.id for row in page] == [ids[2], ids[1]]
    assert count(ledger, SearchQuery()) == 5
    assert count(ledger, SearchQuery(since=T0 + timedelta(minutes=3))) == 2


def test_a_row_holds_references_and_utc_times(ledger, two):
    landed, _ = two
    ledger.update(landed, canonical_json='{"parties": [{"personnummer": "198503142385"}]}')
    (row,) = search(ledger, SearchQuery(text=landed))
    assert (row.source_reference, row.source_name, row.state) == ("4711", "Ansokan-Bygglov-4711.xml", "landed")
    assert row.received_at == T0 and row.received_at.tzinfo is not None
    assert "198503142385" not in repr(row) and not hasattr(row, "canonical_json")


def test_a_text_held_whole_is_not_also_looked_for_in_file_names(ledger, two):
    landed, _ = two
    named = land(ledger, "4711-ritning.xml", reference="9999")  # "4711" is part of its name, not its reference
    by_reference = SearchQuery(text="4711")
    assert _ids(ledger, text="4711") == [landed] and count(ledger, by_reference) == 1
    assert _ids(ledger, text="4711-ritning") == [named], "nothing holds it whole: file names are searched"


def test_a_sha256_prefix_is_a_range_of_hex(ledger):
    """Other content whose sha256 sorts right after the prefix's range is not found by it."""
    names = [f"{n}.xml" for n in range(40)]
    ids = {land(ledger, name): hashlib.sha256(f"kumla-bygglov/{name}".encode()).hexdigest() for name in names}
    sid, sha = next(iter(ids.items()))
    prefix = sha[:8]
    assert _ids(ledger, text=prefix) == [other for other, digest in ids.items() if digest.startswith(prefix)]
    assert sid in _ids(ledger, text=prefix.upper())


def test_a_file_name_is_shown_with_a_personnummer_in_it_masked(ledger):
    sid = land(ledger, "Johan Berglund 19850314-2385 ansokan.xml")
    (row,) = search(ledger, SearchQuery(text=sid))
    assert row.id == sid and row.source_name == "Johan Berglund [redacted] ansokan.xml"


@pytest.mark.parametrize("part", ["19850314-2385", "19850314-238", "0314-2385", "314-2385", "850314",
                                  "14-2385", "Berglund 19850314-2385"])
def test_a_part_of_a_personnummer_does_not_find_the_file_named_with_it(ledger, part):
    """Unaudited, a piece of the number would confirm whose file it is: such a text finds a whole name only."""
    land(ledger, "Johan Berglund 19850314-2385 ansokan.xml")
    assert _ids(ledger, text=part) == [] and count(ledger, SearchQuery(text=part)) == 0


def test_a_text_shaped_like_personal_data_still_finds_a_whole_file_name(ledger):
    named = land(ledger, "Johan Berglund 19850314-2385 ansokan.xml")
    mailed = land(ledger, "från anna@example.se.json")
    assert _ids(ledger, text="Johan Berglund 19850314-2385 ansokan.xml") == [named]
    assert _ids(ledger, text="från anna@example.se.json") == [mailed]
    assert _ids(ledger, text="anna@example.se") == []
    assert _ids(ledger, text="4-2385") == [named], "five digits are no personnummer: part of a name as before"
