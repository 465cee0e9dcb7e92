"""The reference data of the simulated Ecos installation: stable GUIDs with Swedish names.

A real Ecos has these per installation. Process types and document classifications can be read over SOAP
(GetProcessTypes, GetDocumentClassifications); occurrence types and party roles cannot (MinutMiljoService has
no operation listing them), so integrations configure those GUIDs, and Brygga's route config would too.
Document statuses are listed by the real service's GetDocumentStatuses, which this simulator's subset leaves
out: here they are configured as GUIDs as well.
The GUIDs are fixed so that configs, tests and demos can name them; ``/_sim/reference`` lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Named:
    id: str
    name: str


@dataclass(frozen=True)
class DocumentClassification:
    """A category of document types (GetDocumentClassifications); a type's id is a DocumentTypeId."""

    id: str
    name: str
    types: tuple[Named, ...]


PROCESS_TYPES: tuple[Named, ...] = (
    Named("5b3f8c2e-6a1d-4e7b-9c0f-2d4e6a8b0c11", "Värmepump"),
    Named("5b3f8c2e-6a1d-4e7b-9c0f-2d4e6a8b0c12", "Enskilt avlopp"),
    Named("5b3f8c2e-6a1d-4e7b-9c0f-2d4e6a8b0c13", "Livsmedelsanläggning"),
    Named("5b3f8c2e-6a1d-4e7b-9c0f-2d4e6a8b0c14", "Hälsoskyddsverksamhet"),
    Named("5b3f8c2e-6a1d-4e7b-9c0f-2d4e6a8b0c15", "Kompostering"),
)

OCCURRENCE_TYPES: tuple[Named, ...] = (
    Named("8e21a7d4-3c5b-4f60-a1e2-7b9c0d1e2f31", "Anmälan värmepump"),
    Named("8e21a7d4-3c5b-4f60-a1e2-7b9c0d1e2f32", "Ansökan om tillstånd enskilt avlopp"),
    Named("8e21a7d4-3c5b-4f60-a1e2-7b9c0d1e2f33", "Anmälan"),
    Named("8e21a7d4-3c5b-4f60-a1e2-7b9c0d1e2f34", "Ansökan"),
    Named("8e21a7d4-3c5b-4f60-a1e2-7b9c0d1e2f35", "Komplettering"),
)

PARTY_ROLES: tuple[Named, ...] = (
    Named("c4d5e6f7-0a1b-4c2d-8e3f-405162738491", "Sökande"),
    Named("c4d5e6f7-0a1b-4c2d-8e3f-405162738492", "Fastighetsägare"),
    Named("c4d5e6f7-0a1b-4c2d-8e3f-405162738493", "Kontaktperson"),
    Named("c4d5e6f7-0a1b-4c2d-8e3f-405162738494", "Verksamhetsutövare"),
    Named("c4d5e6f7-0a1b-4c2d-8e3f-405162738495", "Fakturamottagare"),
    Named("c4d5e6f7-0a1b-4c2d-8e3f-405162738496", "Ombud"),
)

DOCUMENT_STATUSES: tuple[Named, ...] = (
    Named("f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a51", "Inkommen"),
    Named("f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a52", "Upprättad"),
    Named("f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a53", "Expedierad"),
)
# The status of a document registered without one (RegisterDocument has no DocumentStatusId).
INCOMING_STATUS = DOCUMENT_STATUSES[0]

DOCUMENT_CLASSIFICATIONS: tuple[DocumentClassification, ...] = (
    DocumentClassification(
        "2a9b8c7d-6e5f-4a3b-8c1d-0e1f2a3b4c50",
        "Inkommande handlingar",
        (
            Named("2a9b8c7d-6e5f-4a3b-8c1d-0e1f2a3b4c51", "Anmälan"),
            Named("2a9b8c7d-6e5f-4a3b-8c1d-0e1f2a3b4c52", "Ansökan"),
            Named("2a9b8c7d-6e5f-4a3b-8c1d-0e1f2a3b4c53", "Bilaga"),
            Named("2a9b8c7d-6e5f-4a3b-8c1d-0e1f2a3b4c54", "Situationsplan"),
            Named("2a9b8c7d-6e5f-4a3b-8c1d-0e1f2a3b4c55", "Ritning"),
            Named("2a9b8c7d-6e5f-4a3b-8c1d-0e1f2a3b4c56", "Komplettering"),
        ),
    ),
)


def by_id(items: tuple[Named, ...]) -> dict[str, Named]:
    """Index by GUID, lower case: GUIDs compare case-insensitively."""
    return {item.id.lower(): item for item in items}


DOCUMENT_TYPES: tuple[Named, ...] = tuple(t for category in DOCUMENT_CLASSIFICATIONS for t in category.types)


def reference_view() -> dict[str, object]:
    """``/_sim/reference``: every seeded GUID and its name."""

    def pairs(items: tuple[Named, ...]) -> list[dict[str, str]]:
        return [{"id": item.id, "name": item.name} for item in items]

    return {
        "process_types": pairs(PROCESS_TYPES),
        "occurrence_types": pairs(OCCURRENCE_TYPES),
        "party_roles": pairs(PARTY_ROLES),
        "document_types": pairs(DOCUMENT_TYPES),
        "document_statuses": pairs(DOCUMENT_STATUSES),
    }
