"""One canonical event as a CloudEvent 1.0 in the structured JSON format (application/cloudevents+json).

Built with the CloudEvents SDK, so the envelope is the spec's, not Brygga's reading of it. What each type carries is
written down in docs/events.md; none of it is personal data beyond case references.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

CONTENT_TYPE = JSONFormat.CONTENT_TYPE
SUBMISSION_TYPE = "se.brygga.submission.{state}"
CASE_TYPE = "se.brygga.case.{kind}"


# The extension attribute naming the submission an event is about: the id that logs and outbound calls carry too.
CORRELATION_ATTRIBUTE = "correlationid"


def to_cloudevent(*, event_id: str, type: str, source: str, subject: str | None, time: datetime,
                  data: dict[str, Any], correlation_id: str | None = None) -> str:
    attributes: dict[str, Any] = {"id": event_id, "type": type, "source": source, "time": time,
                                  "datacontenttype": "application/json", "specversion": "1.0"}
    if subject:
        attributes["subject"] = subject
    if correlation_id:
        attributes[CORRELATION_ATTRIBUTE] = correlation_id
    return JSONFormat().write(CloudEvent(attributes, data)).decode()


def routing_key(type: str, kommunkod: str | None) -> str:
    """``<type>.<kommunkod>``: a consumer binds to one kommun's events, or to all with ``<type>.*``."""
    return f"{type}.{kommunkod or '0000'}"
