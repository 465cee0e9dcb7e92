"""Gallring after the real route: submissions run to completion, then purged with the clock moved forward."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta

from routing import SAMPLES
from sqlalchemy import select

from brygga.ledger import State
from brygga.ledger.models import Base
from brygga.retention import PURGED_NAME, purge_route

PERSONAL_FILE_NAME = "Johan Berglund 19850314-2385.xml"


def _attachment_shas(case_json: str) -> dict[str, str]:
    return {a["name"]: a["sha256"] for a in json.loads(case_json)["attachments"]}


def _the_residents_data() -> list[str]:
    raw = (SAMPLES / "bygglov-person.xml").read_text(encoding="utf-8")
    pnr = re.search(r"<SocialSecurityNumber><!\[CDATA\[([^\]]+)\]\]>", raw)[1]
    given = re.search(r"<sokande>.*?<Firstname><!\[CDATA\[([^\]]+)\]\]>", raw)[1]
    family = re.search(r"<sokande>.*?<Lastname><!\[CDATA\[([^\]]+)\]\]>", raw)[1]
    email = re.search(r"<Email><!\[CDATA\[([^\]]+)\]\]>", raw)[1]
    street = re.search(r"<sokande>.*?<Address><!\[CDATA\[([^\]]+)\]\]>", raw)[1]
    digits = pnr.replace("-", "")
    assert (given, family, pnr) == ("Johan", "Berglund", "19850314-2385")  # what the sample says, checked once
    return [given, family, pnr, digits, digits[2:], f"{digits[2:8]}-{digits[8:]}", email, street]


def _ledger_text(ledger) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """Every value of every column of every ledger table, as text: (table, column, value)."""
    found = []
    with ledger.session() as s:
        for table in Base.metadata.sorted_tables:
            for row in s.execute(select(table)).mappings():
                found.extend((table.name, column, str(value)) for column, value in row.items() if value is not None)
    return found


def test_a_completed_submission_is_purged_after_its_time_and_only_then(route):
    route.drop("bygglov-person.xml", PERSONAL_FILE_NAME)
    route.drop("bygglov-organisation.xml")  # shares Situationsplan.pdf with the person's application
    route.drop("bygglov-bad-personnummer.xml")  # the same resident, quarantined
    route.run()
    ctx = route.context()
    ledger, keep_for = ctx.ledger, ctx.route.retention
    assert keep_for == timedelta(days=90), "the bundled route keeps submissions 90 days"
    person, organisation = route.submission("bygglov-person.xml"), route.submission("bygglov-organisation.xml")
    quarantined = route.submission("bygglov-bad-personnummer.xml")
    assert person.state == organisation.state == State.COMPLETED, ledger.quarantine_reasons(person.id)
    assert quarantined.state == State.QUARANTINED and person.source_name == PERSONAL_FILE_NAME
    attachments = _attachment_shas(person.canonical_json)
    shared = attachments["Situationsplan.pdf"]
    assert shared in _attachment_shas(organisation.canonical_json).values()
    files = {name: ctx.content.path_for(sha) for name, sha in attachments.items()}
    raw = ctx.landing.path_for(person.content_sha256)
    assert raw.exists() and all(p.exists() for p in files.values())

    # The person's application was completed a month earlier than the organisation's.
    ledger.update(person.id, updated_at=datetime.now(UTC) - timedelta(days=31))
    now = datetime.now(UTC) + timedelta(days=60)

    dry = purge_route(ledger, ctx.settings, ctx.route, now=now)
    assert [p.submission_id for p in dry.purged] == [person.id] and dry.held_back == []
    assert ledger.get(person.id).canonical_json == person.canonical_json and raw.exists()
    assert ledger.audit_log() == []

    report = purge_route(ledger, ctx.settings, ctx.route, now=now, apply=True, actor="test")
    assert [p.submission_id for p in report.purged] == [person.id] and report.bytes_freed == dry.bytes_freed
    assert not raw.exists()
    assert not files["Fasad mot gatan.png"].exists() and not files["Beskrivning.docx"].exists()
    assert files["Situationsplan.pdf"].exists(), "the organisation's application still refers to it"
    after = ledger.get(person.id)
    assert after.canonical_json is None and after.source_name == PURGED_NAME and after.purged_at is not None
    assert (after.id, after.state, after.external_ref, after.archive_location, after.content_sha256) == (
        person.id, State.COMPLETED, person.external_ref, person.archive_location, person.content_sha256)
    assert after.external_ref and after.archive_location
    (entry,) = ledger.audit_log(person.id)
    assert (entry.actor, entry.action) == ("test", "purge")
    assert [s.step for s in ledger.steps(person.id)] == ["intake", "translate", "deliver", "archive", "notify"]

    # Nothing of the resident is left anywhere in the ledger: not in the submission, its steps, deliveries, the
    # quarantine of the same resident's other file (value-free by design), nor the audit log.
    leaks = [(table, column) for table, column, value in _ledger_text(ledger) for needle in _the_residents_data()
             if needle in value]
    assert leaks == []
    assert ledger.get(quarantined.id).purged_at is None, "a quarantined submission is never purged"
    assert ctx.landing.path_for(quarantined.content_sha256).exists()

    assert purge_route(ledger, ctx.settings, ctx.route, now=now, apply=True, actor="test").purged == []
    assert len(ledger.audit_log()) == 1

    # The organisation's time comes too; then the shared drawing goes.
    later = purge_route(ledger, ctx.settings, ctx.route, now=now + timedelta(days=31), apply=True, actor="test")
    assert [p.submission_id for p in later.purged] == [organisation.id]
    assert not files["Situationsplan.pdf"].exists()
    assert ledger.get(quarantined.id).purged_at is None


def test_the_same_file_sent_again_after_the_purge_is_not_kept(route):
    route.drop("bygglov-person.xml")
    route.run()
    ctx = route.context()
    person = route.submission("bygglov-person.xml")
    assert person.state == State.COMPLETED, ctx.ledger.quarantine_reasons(person.id)
    now = datetime.now(UTC) + timedelta(days=91)
    purge_route(ctx.ledger, ctx.settings, ctx.route, now=now, apply=True, actor="test")
    raw = ctx.landing.path_for(person.content_sha256)
    assert not raw.exists()

    route.drop("bygglov-person.xml")  # the resident sends the very same file again
    route.run()
    assert raw.exists(), "intake lands the bytes again, under the purged submission"
    assert route.submission("bygglov-person.xml").id == person.id
    assert hashlib.sha256(raw.read_bytes()).hexdigest() == person.content_sha256
    report = purge_route(ctx.ledger, ctx.settings, ctx.route, now=now, apply=True, actor="test")
    assert [(p.submission_id, p.relanded) for p in report.purged] == [(person.id, True)]
    assert not raw.exists()
