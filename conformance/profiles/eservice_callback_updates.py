"""The status updates Brygga sends an e-service platform for one sample, built from the bundled configuration.

1. The registration, as the notify step sends it (brygga/pipeline/notify.py): the route's notify status and
   message for the case type, and the case's reference, which the notifier confirms with confirmDelivery.
2. The decision, as the status DAG tells it (brygga/status/tell.py): the status and text the case system's
   vocabulary gives ``decision_made``, with the decision's document attached (here the sample's first document).
   A case system whose vocabulary has no ``decision_made`` (or no status feed at all) tells no decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from brygga.plugins import Attachment, StatusUpdate, StoredDocument
from brygga.resources import resource
from brygga.routes import Route
from brygga.status.config import StatusFeedSpec, load_status_feeds
from brygga.status.vocabulary import Vocabulary, load_vocabulary

DECISION = "decision_made"
# The vocabulary's {fact:rubrik}: the handelse's title in the case system.
DECISION_FACTS = {"rubrik": "Beslut"}


@dataclass(frozen=True)
class Decision:
    update: StatusUpdate
    document: StoredDocument | None  # the one attached, as the sample holds it


@dataclass(frozen=True)
class Updates:
    registration: StatusUpdate
    decision: Decision | None
    no_decision: str  # why there is no decision, when there is none


@cache
def _feeds() -> tuple[StatusFeedSpec, ...]:
    return tuple(load_status_feeds(resource("routes", "routes.yaml"), resource("mappings")))


@cache
def _vocabulary(path: Path) -> Vocabulary:
    return load_vocabulary(path)


def updates_for(route: Route, case_type: str, documents: list[StoredDocument], *, flow_instance: int,
                reference: str) -> Updates:
    assert route.notify is not None  # only samples whose route tells an e-service platform come here
    texts = route.notify.texts(case_type)
    registration = StatusUpdate(source_reference=str(flow_instance), status=texts["status"],
                                message=texts["message"].format(diarienummer=reference), external_ref=reference)
    connections = {target.connection for target in route.targets if case_type in target.mappings}
    feeds = [feed for feed in _feeds() if feed.connection in connections]
    if not feeds:
        return Updates(registration, None, f"route {route.id} has no status feed for its case system: Brygga "
                                           "tells no decision for this case type")
    feed = feeds[0]
    entry = _vocabulary(feed.vocabulary).statuses.get(DECISION)
    if entry is None:
        return Updates(registration, None, f"the status vocabulary of {feed.connection} has no {DECISION}: Brygga "
                                           "tells no decision for this case type")
    text = entry.text.render(reference, DECISION_FACTS) if entry.text is not None else None
    document = documents[0] if documents and feed.decision_documents else None
    attachments = (Attachment(document.name, document.media_type, document.path.read_bytes()),) if document else ()
    update = StatusUpdate(source_reference=str(flow_instance), status=entry.status, message=text or "",
                          attachments=attachments)
    return Updates(registration, Decision(update, document), "")
