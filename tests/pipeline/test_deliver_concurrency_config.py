"""A target's ``concurrency`` in the routes file, and the lanes deliver runs its submissions in."""

from __future__ import annotations

import copy
import threading
from pathlib import Path

import pytest

from brygga.errors import ConfigError
from brygga.pipeline.lanes import run_lanes
from brygga.provenance import correlation, correlation_id
from brygga.routes import DEFAULT_CONCURRENCY, parse_routes

DOCUMENT = {
    "routes": [{
        "id": "kumla-bygglov",
        "tenant": {"kommunkod": "1881", "name": "Kumla kommun", "organisationsnummer": "212000-1819"},
        "source": {"adapter": "file-inbox", "config": {"path": "inbox/kumla"}},
        "mapping": "in.yaml",
        "targets": [{"id": "byggr", "adapter": "byggr", "connection": "byggr_kumla", "mapping": "out.yaml",
                     "case_types": ["bygglov"]}],
    }]
}
DEADLINE_S = 20.0


@pytest.fixture
def mappings(tmp_path: Path) -> Path:
    (tmp_path / "in.yaml").write_text("x: 1")
    (tmp_path / "out.yaml").write_text("x: 1")
    return tmp_path


def _target(mappings: Path, **given: object):
    document = copy.deepcopy(DOCUMENT)
    document["routes"][0]["targets"][0].update(given)
    (route,) = parse_routes(document, file=mappings / "routes.yaml", mappings_dir=mappings)
    return route.targets[0]


def test_a_target_delivers_four_at_once_unless_it_says_otherwise(mappings):
    assert _target(mappings).concurrency == DEFAULT_CONCURRENCY == 4
    assert _target(mappings, concurrency=1).concurrency == 1
    assert _target(mappings, concurrency=32).concurrency == 32


@pytest.mark.parametrize(("value", "rule"), [(0, "minimum"), (33, "maximum"), ("4", "type"), (2.5, "type"),
                                             (True, "type")])
def test_a_concurrency_outside_1_to_32_is_refused_naming_the_file_and_the_field(mappings, value, rule):
    with pytest.raises(ConfigError) as refused:
        _target(mappings, concurrency=value)
    message = str(refused.value)
    assert f"{mappings / 'routes.yaml'}: /routes/0/targets/0/concurrency: " in message
    assert f"(rule: {rule})" in message


# --- lanes ---------------------------------------------------------------------------------------------------


def test_a_lane_runs_in_order_while_lanes_overlap_in_the_callers_context():
    started = threading.Barrier(2, timeout=DEADLINE_S)  # both lanes' first items at once, or a BrokenBarrierError
    seen: list[tuple[str, str | None]] = []
    lock = threading.Lock()

    def work(item: str) -> None:
        if item.endswith("1"):
            started.wait()
        with lock:
            seen.append((item, correlation_id()))

    with correlation("the-task"):
        run_lanes([["a1", "a2", "a3"], ["b1", "b2"]], work, workers=2)

    assert [item for item, _ in seen if item[0] == "a"] == ["a1", "a2", "a3"]
    assert [item for item, _ in seen if item[0] == "b"] == ["b1", "b2"]
    assert {context for _, context in seen} == {"the-task"}


def test_a_failure_stops_its_lane_lets_the_running_items_finish_and_is_raised():
    running = threading.Event()
    failed = threading.Event()
    finished: list[str] = []

    def work(item: str) -> None:
        if item == "a1":
            assert running.wait(DEADLINE_S)
            failed.set()
            raise OSError("the ledger's disk is gone")
        if item == "b1":
            running.set()
            assert failed.wait(DEADLINE_S)  # still running when a1 fails
        finished.append(item)

    with pytest.raises(OSError, match="disk is gone"):
        run_lanes([["a1", "a2"], ["b1"]], work, workers=2)

    assert "b1" in finished, "the item under way finished"
    assert "a2" not in finished, "a later item of the failed lane never started"


def test_one_worker_runs_everything_in_the_callers_thread():
    threads: set[int] = set()
    run_lanes([["a1", "a2"], ["b1"]], lambda item: threads.add(threading.get_ident()), workers=1)
    assert threads == {threading.get_ident()}
