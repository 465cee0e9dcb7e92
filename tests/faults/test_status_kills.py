"""The resident follows the case, with workers dying: `brygga status run` and `brygga bus relay` are SIGKILLed at
random moments while a case officer moves three cases in ByggR. Afterwards the callback simulator has seen every
status event once and in order per case (a call in the one-call window of docs/status.md at most twice, and only
where the ledger says so), and the bus has every outbox event at least once, a duplicate with the same id and body.

A decision whose Mina meddelanden call was cut off by a kill is not sent again by itself (a second letter is worse
than a late one): the event fails, and the test does what the administrator does: checks the mailbox, and runs
`brygga status retry` for a letter that did not arrive. No resident ever gets a letter twice.

Real child processes, simulators on real sockets, the SQLite ledger with the embedded bus in it. The seed fixes the
officer's moves and the kill moments' draws; only where a kill lands in a child's work depends on timing.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select
from status_kills import (
    CONNECTION,
    MOVE_KINDS,
    ChildResult,
    Officer,
    World,
    callback_in_doubt,
    drain_queue,
    match_told,
    status_world,
)

from brygga.bus.cli import relay_once
from brygga.bus.transport import bus_url
from brygga.cli import main as brygga_cli
from brygga.ledger import OutboxMessage, StatusEventRecord
from brygga.settings import Settings
from brygga.status.run import run_status

SEED = 20261130
SAMPLES = ["bygglov-person.xml", "bygglov-organisation.xml", "attefall-utf8.xml"]
ROUNDS = 3  # with the officer's moves
MOVES_PER_ROUND = 4
EXTRA_ROUNDS = 3  # without moves, only while fewer than MIN_KILLS (or no kill of a kind) have landed
MIN_KILLS = 6
# A kill moment is a share of the kind's work time once it has opened the ledger: a first guess, then the longest
# seen in a child of that kind that was not killed.
FIRST_GUESS_S = {"status": 2.5, "relay": 2.0}
DRAIN_LIMIT_S = 60.0
# tell.py's reason for a decision whose digital mail may have gone out: it waits for an administrator.
MAIL_IN_DOUBT = ("Mina meddelanden: the last attempt may have gone through", "not sent again by itself")


def mail_in_doubt(text: str | None) -> bool:
    return all(part in (text or "") for part in MAIL_IN_DOUBT)


def kill_round(world: World, rng: random.Random, work_s: dict[str, float]) -> list[ChildResult]:
    shares = {"status": [rng.uniform(0.0, 1.1), rng.uniform(0.0, 1.1)], "relay": [rng.uniform(0.0, 1.1)]}
    results = world.run_children({kind: [share * work_s[kind] for share in kind_shares]
                                  for kind, kind_shares in shares.items()})
    for result in results:
        failures = [line for line in result.output.splitlines() if line.startswith("  failed: ")]
        # Exit 1: an event failed; only a digital mail cut off by an earlier kill may do that.
        red_by_design = result.returncode == 1 and failures and all(mail_in_doubt(line) for line in failures)
        assert result.returncode in (0, -9) or red_by_design, (
            f"a `{result.kind}` child that was not killed exited {result.returncode}:\n{result.output}\n"
            f"{result.stderr_tail}")
    for kind in work_s:  # the next kill moments scale with the longest work seen on this machine
        seen = [r.ran_for for r in results if r.kind == kind and r.returncode != -9 and r.ran_for]
        if seen:
            work_s[kind] = max(seen)
    return results


def drain(world: World) -> int:
    """Status and relay here, without kills, until nothing is pending and the outbox is empty. The runs made."""
    deadline = time.monotonic() + DRAIN_LIMIT_S
    runs = 0
    while True:
        runs += 1
        run_status(CONNECTION)
        backlog = relay_once()["backlog"]
        pending = [e for e in status_events(world) if e.state == "pending"]
        if not pending and backlog == 0:
            return runs
        if time.monotonic() > deadline:
            pytest.fail(f"after {DRAIN_LIMIT_S:.0f} s of status runs without kills, {len(pending)} status event(s) "
                        f"are still pending ({Counter(e.kind for e in pending)}) and {backlog} outbox event(s) "
                        "unpublished")
        time.sleep(0.25)  # a claim in doubt settles for the route's in_doubt_delay (1 s here)


def status_events(world: World) -> list[StatusEventRecord]:
    with world.ledger() as ledger:
        return ledger.status_events(connection=CONNECTION)


def letters(world: World) -> Counter[str]:
    """Deliveries in the Mina meddelanden simulator, by their reference (the status event's id)."""
    return Counter(str(d.reference) for d in world.mailbox.running.app.deliveries)


def test_status_and_relay_killed_at_random_tell_each_event_once_in_order_and_publish_all(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    began = time.monotonic()
    rng = random.Random(SEED)
    print(f"\nseed {SEED}")
    with status_world(tmp_path, monkeypatch) as world:
        cases = world.register_cases(SAMPLES)
        at_registration = len(world.callback.app.calls)
        officer = Officer(world.byggr, cases, rng)
        work_s = dict(FIRST_GUESS_S)
        results: list[ChildResult] = []
        moves = 0
        for number in range(ROUNDS + EXTRA_ROUNDS):
            kills = Counter(r.kind for r in results if r.returncode == -9)
            if number >= ROUNDS and sum(kills.values()) >= MIN_KILLS and kills["status"] and kills["relay"]:
                break
            if number < ROUNDS:
                moves += len(officer.move(MOVES_PER_ROUND))
            started = time.monotonic()
            round_results = kill_round(world, rng, work_s)
            results += round_results
            print(f"round {number + 1} in {time.monotonic() - started:.1f} s: " + ", ".join(
                f"{r.kind} {'killed' if r.returncode == -9 else f'exit {r.returncode}'} after {r.ran_for or 0:.2f} s"
                for r in round_results))
        kills = Counter(r.kind for r in results if r.returncode == -9)
        assert kills["status"] >= 1 and kills["relay"] >= 1, f"not every kind was killed: {dict(kills)}"
        assert sum(kills.values()) >= MIN_KILLS, f"only {sum(kills.values())} kill(s) landed: {dict(kills)}"
        by_children = len(world.callback.app.calls) - at_registration

        runs = drain(world)
        # The administrator: a decision whose letter may have gone out is checked in the mailbox, and retried
        # only when it did not arrive.
        failed = [e for e in status_events(world) if e.state == "failed"]
        assert all(mail_in_doubt(e.detail) for e in failed), [f"{e.kind}: {e.detail}" for e in failed]
        retried = [e for e in failed if not letters(world)[e.event_id]]
        for event in retried:
            assert brygga_cli(["status", "retry", event.event_id, "--actor", "test"]) == 0
        if retried:
            runs += drain(world)

        # --- the ledger: every move one event, told; nothing pending; failed only a letter that arrived -----
        events = status_events(world)
        with world.ledger() as ledger:
            with ledger.session() as session:
                outbox = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
            assert ledger.unpublished() == []
        states = Counter(e.state for e in events)
        assert not states["pending"], f"status events by state: {dict(states)}"
        for event in events:
            if event.state == "failed":
                assert mail_in_doubt(event.detail) and letters(world)[event.event_id] == 1, (
                    f"a failed {event.kind} event: {event.detail}")
        told = [e for e in events if e.state in ("sent", "failed")]
        assert len(told) == moves == sum(len(case.moves) for case in cases)
        for case in cases:
            assert Counter(e.kind for e in told if e.case_ref == case.dnr) == Counter(
                MOVE_KINDS[move] for move in case.moves), f"{case.sample}: events against the officer's moves"

        # --- Mina sidor: each event once and in order per case; Mina meddelanden: never a letter twice --------
        repeats = in_doubt = 0
        for case in cases:
            expected = []
            for event in sorted((e for e in told if e.case_ref == case.dnr), key=lambda e: e.id):
                canonical = orjson.loads(event.event_json)
                expected.append((canonical["status"], canonical["text"], callback_in_doubt(event.detail)))
                in_doubt += expected[-1][2]
            problems, repeated = match_told(world.told(case.flow_id)[case.at_registration:], expected)
            assert not problems, f"{case.sample}: what Mina sidor got against the ledger's events: {problems}"
            repeats += repeated
        assert all(n == 1 for n in letters(world).values()), "a resident got the same letter twice"
        mailed = {e.event_id for e in told if "delivered to the resident's mailbox" in (e.detail or "")}
        assert mailed <= set(letters(world)), "an event says its letter was delivered, and the mailbox has none"

        # --- the bus: every outbox event at least once, a duplicate the same -----------------------------
        messages = drain_queue(bus_url(Settings.from_env()))
        rows = {row.event_id: row for row in outbox}
        received = Counter(m.message_id for m in messages)
        assert set(received) == set(rows), (f"{len(set(rows) - set(received))} outbox event(s) never reached the bus, "
                                            f"{len(set(received) - set(rows))} unknown id(s) on it")
        for message in messages:
            row = rows[message.message_id]
            assert message.event["id"] == message.message_id and message.body == row.body.encode(), (
                f"bus message {message.message_id} ({row.type}) differs from its outbox row")
        first_seen: dict[str, dict[str, Any]] = {}  # each id's first arrival, in the order of arrival
        for message in messages:
            first_seen.setdefault(message.message_id, message.event)
        for subject in {event.get("subject") for event in first_seen.values()}:  # a case, or a submission
            order = [rows[i].id for i, event in first_seen.items() if event.get("subject") == subject]
            assert order == sorted(order), "the events of one subject reached the bus out of outbox order"
        recorded = {e.event_id for e in events}
        for message in messages:
            if message.event["type"].startswith("se.brygga.case."):
                assert message.message_id in recorded and message.event["data"]["eventId"] == message.message_id
        assert {e.event_id for e in told} <= set(received), "a told status event has no message on the bus"

        duplicates = sum(n - 1 for n in received.values())
        calls = len(world.callback.app.calls) - at_registration
        print(f"{moves} moves, {len(told)} events told; kills: {dict(kills)} of {len(results)} children; Mina sidor: "
              f"{in_doubt} event(s) in doubt, {repeats} call(s) repeated, {by_children} of "
              f"{calls} calls made by the children; Mina meddelanden: {len(failed)} letter(s) "
              f"in doubt, {len(retried)} retried by the administrator, {sum(letters(world).values())} delivered; "
              f"bus: {len(rows)} events, {duplicates} duplicate(s); {runs} drain run(s); "
              f"{time.monotonic() - began:.1f} s")
