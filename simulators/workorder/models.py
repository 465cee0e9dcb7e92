"""The work-order API's bodies as pydantic models: they validate requests and make the OpenAPI document.

Field names are the API's (camelCase, as the municipal work-order systems this stands in for answer). Limits are
those of such systems' forms; a body outside them is a 422 problem naming the field and the rule.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Status = Literal["registered", "assigned", "in_progress", "waiting", "closed"]
STATUSES: tuple[str, ...] = ("registered", "assigned", "in_progress", "waiting", "closed")
Priority = Literal["low", "normal", "high"]

ORDER_NUMBER_PATTERN = r"^AO-[0-9]{4}-[0-9]{5,}$"


class _Strict(BaseModel):
    # Unknown fields are refused: a misspelt field would otherwise be dropped without anyone noticing.
    model_config = ConfigDict(extra="forbid")


class Location(_Strict):
    address: str | None = Field(None, min_length=1, max_length=1000, description="Address or place, free text.")
    fastighetsbeteckning: str | None = Field(None, min_length=1, max_length=100,
                                             description="Property designation, e.g. KUMLA STENEN 1:23.")
    latitude: float | None = Field(None, ge=-90, le=90, description="WGS 84 latitude in degrees.")
    longitude: float | None = Field(None, ge=-180, le=180, description="WGS 84 longitude in degrees.")


class Reporter(_Strict):
    name: str | None = Field(None, min_length=1, max_length=250)
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(None, pattern=r"^\+?[0-9][0-9 ()-]{1,28}[0-9]$")
    personalNumber: str | None = Field(None, pattern=r"^[0-9]{8}-?[0-9]{4}$",
                                       description="Personnummer, 12 digits (a dash before the last four allowed).")


class WorkOrderCreate(_Strict):
    externalRef: str = Field(min_length=1, max_length=100, pattern=r"^[\x21-\x7e]+$",
                             description="The caller's own reference; unique per client.")
    category: str = Field(min_length=1, max_length=50, description="Category code, e.g. belysning, gata, park.")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=10000)
    location: Location | None = None
    reporter: Reporter | None = None
    reportedAt: AwareDatetime | None = Field(None, description="When the fault was reported, with an offset.")
    priority: Priority = "normal"
    attributes: dict[str, str | list[str]] | None = Field(
        None, max_length=50, description="The category's own fields, as the system is configured for it, "
                                         "e.g. {\"tjanster\": [\"Vatten\", \"Spillvatten\"]} for a VA connection.")


class Attachment(BaseModel):
    id: str
    name: str
    mediaType: str
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class NoteCreate(_Strict):
    text: str = Field(min_length=1, max_length=10000)


class Note(BaseModel):
    id: str
    text: str
    createdAt: datetime


class WorkOrder(BaseModel):
    id: str = Field(description="UUID of the order.")
    orderNumber: str = Field(pattern=ORDER_NUMBER_PATTERN)
    status: Status
    externalRef: str
    category: str
    title: str
    description: str
    location: Location | None = None
    reporter: Reporter | None = None
    reportedAt: datetime | None = None
    priority: Priority
    attributes: dict[str, str | list[str]] | None = None
    createdAt: datetime
    updatedAt: datetime
    attachments: list[Attachment] = []
    notes: list[Note] = []


class WorkOrderList(BaseModel):
    items: list[WorkOrder]


class Change(BaseModel):
    id: str = Field(description="The change's own id (UUID): the same change always has the same id.")
    orderNumber: str
    externalRef: str
    status: Status
    changedAt: datetime


class ChangeList(BaseModel):
    changes: list[Change]
    until: datetime = Field(description="Give this as `since` next time to get only what changed after it.")


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int


class OAuthError(BaseModel):
    error: Literal["invalid_request", "invalid_client", "unsupported_grant_type", "unauthorized_client"]
    error_description: str | None = None


class FieldProblem(BaseModel):
    field: str = Field(description="Where: body.location.latitude, header.Idempotency-Key, query.since.")
    rule: str = Field(description="Which rule failed: missing, string_too_long, greater_than_equal, ...")
    message: str | None = Field(None, description="The rule in words; never the value given.")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldProblem] | None = None


__all__ = [
    "STATUSES",
    "Attachment",
    "Change",
    "ChangeList",
    "FieldProblem",
    "Location",
    "Note",
    "NoteCreate",
    "OAuthError",
    "Priority",
    "Problem",
    "Reporter",
    "Status",
    "TokenResponse",
    "WorkOrder",
    "WorkOrderCreate",
    "WorkOrderList",
]
