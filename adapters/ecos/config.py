"""The ecos target's route config: its JSON Schema (``config_spec``) and the checks a schema cannot make."""

from __future__ import annotations

from typing import Any

from brygga_adapters.ecos.lookups import check_value

ROLES = ("applicant", "property_owner", "contact", "representative", "invoice_recipient")


def _guid_or_name(description: str) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "description": description}


def _guid(description: str) -> dict[str, Any]:
    # Checked by check_config rather than a pattern, so the message can say why only a GUID works.
    return {"type": "string", "minLength": 1, "description": description}


CONFIG_SPEC: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Ecos case target",
    "type": "object",
    "additionalProperties": False,
    "required": ["occurrence_type", "party_roles"],
    "properties": {
        "process_type": _guid_or_name(
            "ProcessTypeId of new cases (ärendeprocess), as a GUID or by its name as GetProcessTypes lists it. "
            "Overrides the payload's processType; one of the two is required."
        ),
        "occurrence_type": _guid(
            "OccurrenceTypeId (händelsetyp) of the occurrence RegisterDocument creates with the case, e.g. "
            "'Anmälan inkommen'. A GUID: MinutMiljoService has no operation that lists occurrence types."
        ),
        "amendment_occurrence_type": _guid(
            "OccurrenceTypeId of the occurrence AddDocumentsToCase creates for an amended form, e.g. "
            "'Komplettering inkommen'. A GUID; default: occurrence_type."
        ),
        "party_roles": {
            "type": "object",
            "description": "Case party role GUID (CaseRoleId / AddPartyToCase Roles) for each canonical role the "
            "payload's parties carry. applicant is required. GUIDs only: MinutMiljoService lists no role types "
            "(GetCasePartyRoles lists the parties on one case).",
            "additionalProperties": False,
            "required": ["applicant"],
            "properties": {role: _guid(f"Case party role GUID for the canonical role {role}.") for role in ROLES},
        },
        "diary_plan": _guid_or_name(
            "DiaryPlanId (diarieplan) of new cases, as a GUID or by its name or beteckning as GetDiaryPlan lists it. "
            "Left out when not set (Ecos then uses the process type's default)."
        ),
        "handling_officer_group": _guid_or_name(
            "HandlingOfficerGroupId of new cases, as a GUID or by its name as GetHandlingOfficerGroups lists it. "
            "Left out when not set."
        ),
        "document_type": _guid_or_name(
            "DocumentTypeId of every document sent, as a GUID or by its name in GetDocumentClassifications "
            "(a document type's name; a name found at more than one level is refused). Left out when not set."
        ),
        "document_status": _guid_or_name(
            "DocumentStatusId of an amendment's documents (AddDocumentsToCase), as a GUID or by its name as "
            "GetDocumentStatuses lists it. Left out when not set."
        ),
        "lookup_ttl_seconds": {
            "type": "integer",
            "minimum": 0,
            "default": 3600,
            "description": "How long the GUIDs found by name (Get* lists) are kept per connection before Ecos "
            "is asked again.",
        },
    },
}


def check_config(config: dict[str, Any]) -> None:
    """Values the schema allows but that can never work: a name where only a GUID can be resolved."""
    for key in ("occurrence_type", "amendment_occurrence_type"):
        if config.get(key):
            check_value(key, config[key])
    for role, value in (config.get("party_roles") or {}).items():
        check_value("party_roles", value, where=f"party_roles.{role}")
