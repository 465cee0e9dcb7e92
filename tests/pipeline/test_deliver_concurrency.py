"""Deliveries to one target overlap up to the target's ``concurrency``, over real HTTP to the ByggR simulator.

The simulator counts the creations (SaveNewArende) in flight and holds each until ``gather`` of them are, so
deliveries that may overlap do; a deadline only keeps a broken run from hanging. Nothing here measures time: the
counts prove the overlap, its limit and the order of versions.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from routing import SAMPLES

from brygga.errors import ConfigError
from brygga.ledger import State
from brygga.provenance import CORRELATION_HEADER, AirflowRun, bind_airflow_run
from brygga_adapters.byggr.target import ByggrTarget
from brygga_simulators import RunningSimulator, start_simulator
from brygga_simulators.byggr import ByggrSimulator

DEADLINE_S = 20.0  # only for a broken run; a working one never waits this long
SAMPLE = (SAMPLES / "bygglov-person.xml").read_bytes()
TARGET = "        connection: byggr_kumla\n"


class CountingByggr(ByggrSimulator):
    """ByggR that counts its creations in flight and holds each until ``gather`` are in flight, or ``release()``."""

    def __init__(self) -> None:
        super().__init__()
        self.gather = 1
        self.in_flight = 0
        self.most_in_flight = 0
        self.correlation_ids: list[str | None] = []
        self._released = False
        self._rounds = 0
        self._changed = threading.Condition()

    def release(self) -> None:
        with self._changed:
            self._released = True
            self._changed.notify_all()

    def wait_for_creations(self, count: int) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.in_flight >= count, timeout=DEADLINE_S)

    def _respond(self, request: Any) -> Any:
        if request.method == "POST":
            with self.lock:
                self.correlation_ids.append(request.headers.get(CORRELATION_HEADER))
        return super()._respond(request)

    def perform(self, payload: Any, operation: str) -> Any:
        if operation != "SaveNewArende":
            return super().perform(payload, operation)
        with self._changed:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self._changed.notify_all()
            if self.in_flight >= self.gather:  # a full round: every held creation goes on
                self._rounds += 1
            else:
                round_ = self._rounds
                self._changed.wait_for(lambda: self._released or self._rounds != round_, timeout=DEADLINE_S)
        try:
            return super().perform(payload, operation)
        finally:
            with self._changed:
                self.in_flight -= 1
                self._changed.notify_all()


@pytest.fixture
def byggr() -> Iterator[RunningSimulator]:
    """Replaces the folder's ByggR (both reply styles) for this module: the counting one, in the contract style."""
    with start_simulator(CountingByggr()) as sim:
        yield sim


def _submission(number: int) -> bytes:
    """A bygglov of its own flow instance: another e-service reference, so a lane of its own."""
    data = SAMPLE.replace(b"<FlowInstanceID>2001</FlowInstanceID>",
                          f"<FlowInstanceID>{number}</FlowInstanceID>".encode())
    assert data != SAMPLE
    return data


def _drop(route, numbers: range) -> list[bytes]:
    return [route.drop("bygglov-person.xml", f"bygglov-{n}.xml", data=_submission(n)) for n in numbers]


def _concurrency(route, limit: int) -> None:
    route.variant(TARGET, f"{TARGET}        concurrency: {limit}\n")


@pytest.fixture
def bound_run() -> Iterator[AirflowRun]:
    run = AirflowRun("brygga_route_kumla_bygglov", "manual__concurrency", "deliver", 1)
    bind_airflow_run(run)
    try:
        yield run
    finally:
        bind_airflow_run(None)


def test_deliveries_to_one_target_overlap_up_to_its_concurrency(route, byggr, bound_run):
    _concurrency(route, 3)
    byggr.app.gather = 3
    dropped = _drop(route, range(3001, 3007))  # two rounds of three

    route.run()

    submissions = [route.submission(data) for data in dropped]
    assert [s.state for s in submissions] == [State.COMPLETED] * 6
    assert byggr.app.most_in_flight == 3, "three at once, and never more"
    assert len(byggr.app.cases) == 6
    ledger = route.context().ledger
    for submission in submissions:
        (step,) = [s for s in ledger.steps(submission.id) if s.step == "deliver"]
        # The worker threads run in the task's context: each step links to the Airflow task that ran it.
        assert (step.dag_id, step.run_id, step.task_id) == (bound_run.dag_id, bound_run.run_id, bound_run.task_id)
    # Each call carries the id of the submission it is for, whichever thread made it.
    assert set(byggr.app.correlation_ids) == {s.id for s in submissions}


def test_a_concurrency_of_one_delivers_one_at_a_time(route, byggr):
    _concurrency(route, 1)
    dropped = _drop(route, range(3101, 3105))

    route.run()

    assert [route.submission(data).state for data in dropped] == [State.COMPLETED] * 4
    assert byggr.app.most_in_flight == 1


def test_the_default_concurrency_is_four(route, byggr):
    byggr.app.gather = 4
    dropped = _drop(route, range(3151, 3159))

    route.run()

    assert [route.submission(data).state for data in dropped] == [State.COMPLETED] * 8
    assert byggr.app.most_in_flight == 4


def test_two_versions_of_one_reference_go_in_order_in_one_run(route, byggr):
    """The amended version waits in its reference's lane for the first: without lanes it would run beside it, find
    it unsettled and wait for the next run. The four creations are held until all four are in flight."""
    _concurrency(route, 4)
    byggr.app.gather = 4
    original = route.drop("bygglov-person.xml", "a-original.xml")
    amended = route.drop("bygglov-person.xml", "b-amended.xml", data=original.replace(
        b"Nybyggnad av enbostadshus med carport.", b"Nybyggnad av enbostadshus och garage."))
    others = _drop(route, range(3201, 3204))

    route.run()

    first, second = route.submission(original), route.submission(amended)
    assert (first.revision, second.revision) == (1, 2)
    assert [first.state, second.state] == [State.COMPLETED, State.COMPLETED], \
        route.context().ledger.quarantine_reasons(second.id)
    assert [route.submission(data).state for data in others] == [State.COMPLETED] * 3
    assert second.external_ref == first.external_ref
    case = byggr.app.cases[first.external_ref]
    markers = [h.anteckning or "" for h in case.handelser]
    assert len(markers) == 2 and "#2" not in markers[0] and "#2" in markers[1], "the amendment comes second"
    assert byggr.app.most_in_flight == 4


def test_an_infrastructure_fault_fails_the_step_after_the_calls_under_way_finish(route, byggr, monkeypatch):
    """One delivery meets a configuration fault while another's creation is in flight: the fault fails the run
    (nothing quarantined), and the other delivery completes and is recorded."""
    _concurrency(route, 2)
    victim, bystander = _drop(route, range(3301, 3303))
    real_deliver = ByggrTarget.deliver

    def deliver(self: ByggrTarget, request: Any) -> Any:
        if request.extern_ref.endswith(":3301"):
            assert byggr.app.wait_for_creations(1), "the other delivery never reached ByggR"
            byggr.app.release()  # the other creation goes on while this one fails
            raise ConfigError("simulated: the connection serves another contract")
        return real_deliver(self, request)

    monkeypatch.setattr(ByggrTarget, "deliver", deliver)
    byggr.app.gather = 2  # held until released

    with pytest.raises(ConfigError, match="another contract"):
        route.run()

    ledger = route.context().ledger
    failed, delivered = route.submission(victim), route.submission(bystander)
    assert failed.state == State.TRANSLATED and not ledger.quarantine_reasons(failed.id)
    assert [s.outcome for s in ledger.steps(failed.id) if s.step == "deliver"] == ["error"]
    assert delivered.state == State.DELIVERED
    assert ledger.delivered_ref(delivered.id, "byggr") == delivered.external_ref in byggr.app.cases
