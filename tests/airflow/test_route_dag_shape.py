"""The route DAG's shape and start: intake, ``process`` mapped over disjoint chunks of the batch, check; a file-inbox
route starts on its inbox's arrivals (an asset watcher whose trigger leaves the files alone) with its cron kept as
the safety net; a task's own parse builds only its own route's DAG.

Airflow is imported in a subprocess with a temporary AIRFLOW_HOME, as in test_dag_file.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from brygga.settings import REPO_ROOT
from brygga_airflow.dag_factory import chunked
from brygga_airflow.run import airflow_outcome, worst_state

pytestmark = pytest.mark.airflow


def test_chunks_are_disjoint_cover_the_batch_in_order_and_hold_at_most_the_chunk_size():
    ids = [f"s{i}" for i in range(250)]
    chunks = chunked(ids + ids[:10], size=100)  # a repeated id (a quarantine listed twice) goes in one chunk only
    assert [len(c) for c in chunks] == [100, 100, 50]
    assert [sid for chunk in chunks for sid in chunk] == ids
    assert chunked([], size=100) == [[]], "an empty batch still reaches its check"


def test_versions_of_one_reference_stay_in_one_chunk_in_batch_order():
    # Version A of reference R is 99th in the batch and version B 103rd: split by position they would go to two
    # chunks run in parallel, and B could be translated (numbered revision 1) before A.
    ids = [f"s{i}" for i in range(150)]
    references: dict[str, str | None] = {sid: f"ref-{sid}" for sid in ids}
    references["s98"] = references["s102"] = "R"
    references["s5"] = None  # not read yet: a group of its own
    chunks = chunked(ids, size=100, references=references)
    (holding,) = [chunk for chunk in chunks if "s98" in chunk]
    assert "s102" in holding and holding.index("s98") < holding.index("s102")
    assert sorted(sid for chunk in chunks for sid in chunk) == sorted(ids) and all(len(c) <= 100 for c in chunks)


def test_adapters_are_looked_up_in_entry_points_read_once_per_process(monkeypatch):
    """Every task parses the DAG file, which looks an adapter up for each use in the routes file: reading the entry
    points scans every installed distribution's metadata, so it happens once."""
    from brygga import plugins

    reads = []
    real = plugins.entry_points
    monkeypatch.setattr(plugins, "entry_points", lambda **kw: reads.append(kw) or real(**kw))
    plugins.installed_entry_points.cache_clear()
    try:
        assert plugins.adapter_class("file-inbox") is plugins.adapter_class("file-inbox")
        plugins.adapter_class("byggr")
        assert reads == [{"group": "brygga.adapters"}]
    finally:
        plugins.installed_entry_points.cache_clear()


def test_a_mapped_task_shows_its_worst_chunk_and_the_number_of_chunks():
    assert worst_state(["success", "failed", "success"]) == "failed"
    assert worst_state(["success", "skipped"]) == "skipped"
    assert worst_state(["success", "up_for_retry"]) == "up_for_retry"
    assert worst_state([]) is None
    tis = [SimpleNamespace(task_id="intake", map_index=-1, state="success"),
           SimpleNamespace(task_id="process", map_index=0, state="success"),
           SimpleNamespace(task_id="process", map_index=1, state="failed"),
           SimpleNamespace(task_id="check", map_index=-1, state="upstream_failed")]
    run = SimpleNamespace(state="failed", get_task_instances=lambda: tis)
    dag = SimpleNamespace(task_ids=["intake", "process", "check"])
    assert airflow_outcome(dag, run) == {"run": "failed", "chunks": {"process": 2},
                                         "tasks": {"intake": "success", "process": "failed",
                                                   "check": "upstream_failed"}}


PROBE = r"""
import asyncio, json, os
from pathlib import Path
from brygga.routes import load_routes
from brygga.settings import Settings
from brygga_airflow.dag_factory import build_route_dag, dag_id_for, route_dags
from brygga_airflow.triggers import InboxArrivalTrigger

settings = Settings.from_env()
routes = {r.id: r for r in load_routes(settings.routes_file, settings.mappings_dir)}
out = {}
for shape in ("process", "steps"):
    dag = build_route_dag(routes["kumla-bygglov"], shape=shape)
    out[shape] = {t.task_id: {"down": sorted(t.downstream_task_ids),  # mapped itself, or in a mapped task group
                              "mapped": bool(getattr(t, "_is_mapped", False))
                              or type(t.task_group).__name__ == "MappedTaskGroup"} for t in dag.tasks}
inbox_dag = build_route_dag(routes["kumla-bygglov"])
timetable = inbox_dag.timetable
(watcher,) = timetable.asset_condition.watchers
out["inbox"] = {"timetable": type(timetable).__name__, "cron": timetable.timetable.expression,
                "trigger": type(watcher.trigger).__name__, "directory": watcher.trigger.directory,
                "pattern": watcher.trigger.pattern}
out["sftp_schedule"] = build_route_dag(routes["cesam-bygga-hus"]).timetable.expression
out["webhook_schedule"] = build_route_dag(routes["kumla-felanmalan-webhook"]).timetable.expression

# The trigger on a real folder: fires for a file the inbox takes, leaves it there, ignores what the inbox ignores.
folder = Path(os.environ["PROBE_FOLDER"])
(folder / ".hidden.xml").write_text("x")
(folder / "half.xml.part").write_text("x")
(folder / "note.txt").write_text("x")
trigger = InboxArrivalTrigger(directory=str(folder), pattern="*.xml", poke_interval=0.01)
(folder / "a.xml").write_text("<x/>")
async def first_event():
    events = trigger.run()
    event = await asyncio.wait_for(events.__anext__(), timeout=60)
    await events.aclose()
    return event.payload
payload = asyncio.run(first_event())
out["trigger"] = {"payload": payload,
                  "left": sorted(p.name for p in folder.iterdir()),
                  "serialized": list(trigger.serialize())}

os.environ["_AIRFLOW_PARSING_CONTEXT_DAG_ID"] = dag_id_for(routes["kumla-felanmalan"])
out["task_parse"] = sorted(route_dags())
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def probe(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("dag-shape")
    folder = tmp / "inbox"
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "BRYGGA"))}
    env.update(AIRFLOW_HOME=str(tmp / "airflow"), AIRFLOW__CORE__LOAD_EXAMPLES="False", BRYGGA_HOME=str(tmp / "b"),
               PROBE_FOLDER=str(folder))
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=300,
                          check=False, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_route_dag_is_intake_then_process_mapped_over_chunks_then_check(probe):
    assert probe["process"] == {"intake": {"down": ["check", "process"], "mapped": False},
                                "process": {"down": ["check"], "mapped": True},
                                "check": {"down": [], "mapped": False}}


def test_the_steps_shape_keeps_a_task_per_step_in_a_mapped_group(probe):
    steps = probe["steps"]
    chain = ["steps.translate", "steps.deliver", "steps.archive", "steps.notify"]
    assert set(steps) == {"intake", "check", *chain}
    assert all(steps[task]["mapped"] for task in chain)
    assert [steps[a]["down"] for a in chain[:-1]] == [[b] for b in chain[1:]]
    assert steps["steps.notify"]["down"] == ["check"]


def test_an_inbox_route_starts_on_arrivals_with_its_cron_as_the_safety_net(probe):
    inbox = dict(probe["inbox"])
    assert inbox.pop("directory").endswith("/b/inbox/kumla-bygglov"), "the route's inbox under BRYGGA_HOME"
    assert inbox == {"timetable": "AssetOrTimeSchedule", "cron": "*/15 * * * *", "trigger": "InboxArrivalTrigger",
                     "pattern": "*.xml"}
    # SFTP runs on its schedule; the webhook's intake starts its runs itself, the schedule is its safety net.
    assert probe["sftp_schedule"] == probe["webhook_schedule"] == "*/5 * * * *"


def test_the_inbox_trigger_fires_for_a_new_file_and_leaves_it_where_it_is(probe):
    trigger = probe["trigger"]
    # One file counted: hidden, in-progress and unmatched files are not arrivals. Counts only: a name can name a person.
    assert trigger["payload"] == {"reason": "1 new file(s)", "waiting": 1}
    assert trigger["left"] == [".hidden.xml", "a.xml", "half.xml.part", "note.txt"], "nothing deleted or moved"
    assert trigger["serialized"][0] == "brygga_airflow.triggers.InboxArrivalTrigger"


def test_a_task_parse_builds_only_its_own_route_dag(probe):
    assert probe["task_parse"] == ["brygga_route_kumla_felanmalan"]
