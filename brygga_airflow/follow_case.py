"""The demo's follow-ups: a case officer moves a case Brygga registered, and the resident follows it.

With the route's simulators still up: the officer assigns a handler in ByggR and the case system's status DAG runs;
the officer decides, with a decision document, and it runs again; it runs once more, and nothing is told twice. Then
the outbox relay publishes every event on the embedded bus. The report says what reached Mina sidor (the callback
simulator), Mina meddelanden (signed and verified by its simulator) and the bus. ``work_orders`` reports what a route
whose source is the bus made of those events.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from brygga.ledger import Ledger
from brygga.settings import Settings
from brygga.status.config import load_status_feeds
from brygga_airflow.bus_dag import build_relay_dag
from brygga_airflow.run import airflow_outcome
from brygga_airflow.status_dag import build_status_dag


def _outcome(dag: Any) -> str:
    outcome = airflow_outcome(dag, dag.test())
    return f"{outcome['run']} ({', '.join(f'{task} {state}' for task, state in outcome['tasks'].items())})"


def follow_case(file_name: str, started: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, Any]:
    settings = Settings.from_env()
    ledger = Ledger(settings.database_url)
    followed = next((r for r in results if r["file"].endswith(file_name) and r.get("submission_id")), None)
    if followed is None or ledger.get(followed["submission_id"]).state != "completed":
        return {"skipped": f"{file_name} was not registered, so there is no case to follow"}
    submission = ledger.get(followed["submission_id"])
    # The case system with a case officer in it: the ByggR simulator behind one of the route's status feeds.
    feed = next(f for f in load_status_feeds(settings.routes_file, settings.mappings_dir)
                if any(route.id == submission.route_id for route, _ in f.targets)
                and hasattr(started[f.connection].running.app, "decide"))
    route, target = next((r, t) for r, t in feed.targets if r.id == submission.route_id)
    dnr = next(d.external_ref for d in ledger.deliveries(submission.id) if d.target == target.id)
    byggr = started[feed.connection].running.app
    status_dag = build_status_dag(feed)
    acts = [("the officer assigns a handler", lambda: byggr.assign_handler(dnr)),
            ("the officer decides, with a decision document", lambda: byggr.decide(dnr)),
            ("nothing new: the status DAG runs again", lambda: None)]
    runs = []
    for what, act in acts:
        act()
        runs.append({"what": what, "airflow": _outcome(status_dag)})
    relay = _outcome(build_relay_dag())
    callback = started[str(route.notify.connection)].running.app if route.notify else None
    told = [f"{c.operation}: {c.fields.get('statusAlias') or c.fields.get('message', {}).get('message')}"
            for c in (callback.calls if callback else [])
            if str(c.fields.get("flowInstanceID")) == submission.source_reference
            and c.operation in ("setStatus", "addMessage")]
    mailbox = started[str(route.digital_mail.connection)].running.app if route.digital_mail else None
    events = ledger.status_events(connection=feed.connection, case_ref=dnr)
    return {
        "diarienummer": dnr, "status_dag": f"brygga_status_{feed.connection}", "status_runs": runs,
        "relay": relay, "mina_sidor": told,
        "mina_meddelanden": [_delivery(d.summary()) for d in mailbox.deliveries] if mailbox is not None else None,
        "status_events": dict(Counter(e.state for e in events)),
        "outbox_backlog": ledger.outbox_backlog(),
    }


def _delivery(summary: dict[str, Any]) -> dict[str, Any]:
    return {"subject": summary["subject"], "signature_valid": summary["signature_valid"],
            "attachments": [a["filename"] for a in summary["attachments"]]}


def work_orders(started: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, Any]:
    """The work orders the bus-fed route created from the events it took off the bus."""
    orders = [o for s in started.values() if hasattr(s.running.app, "orders") for o in s.running.app.orders]
    return {"work_orders": [{"orderNumber": o["orderNumber"], "title": o.get("title")} for o in orders]}


def print_follow_up(report: dict[str, Any]) -> None:
    if "skipped" in report:
        print(f"\n   follow-up skipped: {report['skipped']}")
        return
    if "work_orders" in report:
        for order in report["work_orders"]:
            print(f"\n   work order {order['orderNumber']}: {order['title']}")
        return
    print(f"\n   the resident follows {report['diarienummer']} ({report['status_dag']}):")
    for run in report["status_runs"]:
        print(f"     {run['what']}: {run['airflow']}")
    for line in report["mina_sidor"]:
        print(f"     Mina sidor  {line}")
    for delivery in report["mina_meddelanden"] or []:
        valid = "signature verified" if delivery["signature_valid"] else "SIGNATURE INVALID"
        print(f"     Mina meddelanden  {delivery['subject']} ({valid}; {', '.join(delivery['attachments'])})")
    states = ", ".join(f"{n} {state}" for state, n in sorted(report["status_events"].items()))
    print(f"     status events: {states}; bus relay: {report['relay']}; outbox backlog {report['outbox_backlog']}")
