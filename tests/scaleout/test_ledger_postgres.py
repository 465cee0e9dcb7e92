"""The scale-out path: the ledger on PostgreSQL, claimed by several processes at once.

Uses the local PostgreSQL (BRYGGA_TEST_POSTGRES_URL, default: trust auth on 127.0.0.1). Each test run
gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import multiprocessing
import os

import pytest
from postgres import throwaway_database
from sqlalchemy import text

from brygga.ledger import Ledger


@pytest.fixture(scope="module")
def postgres_url():
    with throwaway_database("brygga_test") as url:
        yield url


def _claim(url: str, submission_id: str, start, results) -> None:  # type: ignore[no-untyped-def]
    ledger = Ledger(url)
    start.wait()
    claim = ledger.claim_delivery(submission_id=submission_id, target="byggr", idempotency_key="key-1",
                                  owner=f"pid-{os.getpid()}")
    results.put(claim.outcome)


def test_processes_racing_for_one_delivery_let_exactly_one_through(postgres_url):
    ledger = Ledger(postgres_url)
    sid = ledger.land(route_id="r", tenant="1881", content_sha256="b" * 64, raw_path="/x",
                      source_name="f.xml").submission_id
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    workers = [ctx.Process(target=_claim, args=(postgres_url, sid, start, results)) for _ in range(6)]
    for w in workers:
        w.start()
    start.set()
    for w in workers:
        w.join(timeout=60)
    outcomes = sorted(results.get(timeout=5) for _ in workers)
    assert outcomes == ["busy"] * 5 + ["go"]


def test_same_bytes_from_two_processes_land_once(postgres_url):
    ledger = Ledger(postgres_url)
    first = ledger.land(route_id="r", tenant="1881", content_sha256="c" * 64, raw_path="/x", source_name="a.xml")
    second = Ledger(postgres_url).land(route_id="r", tenant="1881", content_sha256="c" * 64, raw_path="/x",
                                       source_name="b.xml")
    assert first.created and not second.created and first.submission_id == second.submission_id


def test_an_older_ledger_is_upgraded_in_place_on_postgresql(postgres_url):
    ledger = Ledger(postgres_url)
    sid = ledger.land(route_id="r", tenant="1881", content_sha256="u" * 64, raw_path="/x",
                      source_name="f.xml").submission_id
    ledger.claim_delivery(submission_id=sid, target="byggr", idempotency_key="key-upgrade", owner="w1")
    with ledger.engine.begin() as conn:  # as the previous release made it
        conn.execute(text("ALTER TABLE deliveries DROP COLUMN lease_token, DROP COLUMN next_attempt_at"))
    ledger.engine.dispose()
    upgraded = Ledger(postgres_url)
    (row,) = [d for d in upgraded.deliveries(sid) if d.idempotency_key == "key-upgrade"]
    assert row.lease_token == 0 and row.next_attempt_at is None


def _open(url: str, start, results) -> None:  # type: ignore[no-untyped-def]
    start.wait()
    try:
        Ledger(url)
        results.put("ok")
    except Exception as exc:  # reported to the parent, which asserts there was none
        results.put(type(exc).__name__)


def test_workers_starting_on_a_fresh_postgresql_ledger_at_once_all_start():
    for _ in range(3):
        with throwaway_database("brygga_fresh") as url:
            ctx = multiprocessing.get_context("spawn")
            start, results = ctx.Event(), ctx.Queue()
            workers = [ctx.Process(target=_open, args=(url, start, results)) for _ in range(4)]
            for w in workers:
                w.start()
            start.set()
            for w in workers:
                w.join(timeout=120)
            assert [results.get(timeout=5) for _ in workers] == ["ok"] * 4
