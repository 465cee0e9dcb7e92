"""The Ecos payload (the outbound mapping's output), read into what the adapter sends.

Shape (README.md has an example)::

    processType       name or GUID of the process type (config 'process_type' wins)
    caseSubtitle      the case's free-text subtitle (CaseSubtitleFree); Brygga appends its marker
    startDate         ISO 8601 date-time the case starts (the submission's receivedAt)
    occurrenceNote    text of the registering occurrence: a string, or a list of lines
    parties[]         kind (person|organisation), nationalIdentificationNumber (required: personnummer or
                      organisationsnummer, how the party is found again), firstName/lastName or
                      organizationName, address {streetName, streetNumber, postCode, postalArea, careOfName,
                      country}, roles (canonical role names: applicant, property_owner, ...)
    estates[]         designation (fastighetsbeteckning, for messages and the case officer) and fnr (the FNR)

Errors name the payload path and the rule, never a value: the payload holds personal data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from brygga.errors import TargetRejected

APPLICANT = "applicant"
PARTY_KINDS = ("person", "organisation")
ADDRESS_FIELDS = ("careOfName", "country", "postCode", "postalArea", "streetName", "streetNumber")


@dataclass(frozen=True)
class Party:
    position: int
    kind: str
    national_id: str = field(repr=False)  # personnummer or organisationsnummer, never empty (see problems)
    roles: tuple[str, ...]
    dto: dict[str, Any] = field(repr=False)  # PersonSvcDto / OrganizationSvcDto fields

    @property
    def where(self) -> str:
        return f"parties[{self.position}]"


@dataclass(frozen=True)
class Estate:
    position: int
    fnr: int


@dataclass(frozen=True)
class EcosPayload:
    process_type: str | None
    case_subtitle: str
    start_date: datetime | None
    occurrence_note: str | None = field(repr=False)
    parties: tuple[Party, ...]
    estates: tuple[Estate, ...]

    @property
    def applicant(self) -> Party:
        return next(party for party in self.parties if APPLICANT in party.roles)


def read_payload(payload: Any) -> EcosPayload:
    """The payload, or TargetRejected naming the first problem (``problems`` lists them all)."""
    found = problems(payload)
    if found:
        raise TargetRejected(f"ecos payload: {found[0]}" + (f" (and {len(found) - 1} more)" if len(found) > 1 else ""))
    assert isinstance(payload, dict)
    return EcosPayload(
        process_type=_text(payload.get("processType")),
        case_subtitle=_text(payload.get("caseSubtitle")) or "",
        start_date=_datetime(payload.get("startDate")),
        occurrence_note=_note(payload.get("occurrenceNote")),
        parties=tuple(_party(position, item) for position, item in enumerate(_list(payload.get("parties")))),
        estates=tuple(
            Estate(position, int(item["fnr"])) for position, item in enumerate(_list(payload.get("estates")))
        ),
    )


def problems(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return ["the payload must be an object (see adapters/ecos/README.md)"]
    found: list[str] = []
    if not _text(payload.get("caseSubtitle")):
        found.append("caseSubtitle: required (the case's subtitle, CaseSubtitleFree)")
    if payload.get("startDate") is not None and _datetime(payload.get("startDate")) is None:
        found.append("startDate: not an ISO 8601 date-time")
    parties = payload.get("parties")
    if not isinstance(parties, list) or not parties:
        found.append("parties: at least one party is required")
        parties = []
    applicants = 0
    for position, party in enumerate(parties):
        found += _party_problems(position, party)
        if isinstance(party, dict) and APPLICANT in _list(party.get("roles")):
            applicants += 1
    if parties and applicants != 1:
        found.append(f"parties: exactly one party with role {APPLICANT} is required, found {applicants}")
    estates = payload.get("estates", [])
    if not isinstance(estates, list):
        found.append("estates: must be a list")
        estates = []
    for position, estate in enumerate(estates):
        fnr = estate.get("fnr") if isinstance(estate, dict) else None
        if not (isinstance(fnr, int) and not isinstance(fnr, bool) and 0 < fnr < 2**31):
            found.append(
                f"estates[{position}].fnr: required, an integer: AddEstateToCase takes the property key (FNR), "
                "which a property lookup fills in (give the route a property_lookup)"
            )
    return found


def _party_problems(position: int, party: Any) -> list[str]:
    where = f"parties[{position}]"
    if not isinstance(party, dict):
        return [f"{where}: must be an object"]
    found = []
    kind = party.get("kind")
    if kind not in PARTY_KINDS:
        found.append(f"{where}.kind: must be one of {', '.join(PARTY_KINDS)}")
    roles = party.get("roles")
    if not isinstance(roles, list) or not roles or not all(isinstance(role, str) and role for role in roles):
        found.append(f"{where}.roles: a list of at least one role name is required")
    if kind == "person" and not (_text(party.get("firstName")) or _text(party.get("lastName"))):
        found.append(f"{where}: a person needs firstName or lastName")
    if kind == "organisation" and not _text(party.get("organizationName")):
        found.append(f"{where}.organizationName: required for an organisation")
    if not _text(party.get("nationalIdentificationNumber")):
        # Ecos's party register finds a party again only by it: without it, a retry after a lost reply would
        # create the party a second time. And the applicant's party is how check-before-create finds the case.
        number = {"person": "personnummer", "organisation": "organisationsnummer"}.get(
            kind, "personnummer or organisationsnummer")
        found.append(
            f"{where}.nationalIdentificationNumber: required for every party (the {number}): SearchParty finds an "
            "existing party by it, so a retry does not create the party again"
        )
    address = party.get("address")
    if address is not None and not isinstance(address, dict):
        found.append(f"{where}.address: must be an object")
    return found


def _party(position: int, party: dict[str, Any]) -> Party:
    kind = party["kind"]
    national_id = _text(party.get("nationalIdentificationNumber")) or ""
    address = {key: _text(value) for key, value in (party.get("address") or {}).items() if key in ADDRESS_FIELDS}
    address = {key: value for key, value in address.items() if value}
    dto: dict[str, Any] = {
        "Addresses": {"PartyAddressSvcDto": [{_pascal(k): v for k, v in sorted(address.items())}]} if address else None,
        "NationalIdentificationNumber": national_id,
    }
    if kind == "person":
        dto |= {"FirstName": _text(party.get("firstName")), "LastName": _text(party.get("lastName"))}
    else:
        dto |= {"OrganizationName": _text(party.get("organizationName"))}
    return Party(
        position=position,
        kind=kind,
        national_id=national_id,
        roles=tuple(dict.fromkeys(party["roles"])),
        dto={key: value for key, value in dto.items() if value is not None or key == "Addresses"},
    )


def _note(value: Any) -> str | None:
    if isinstance(value, list):
        return "\n".join(line for item in value if (line := _text(item))) or None
    return _text(value)


def _pascal(name: str) -> str:
    return name[0].upper() + name[1:]


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _datetime(value: Any) -> datetime | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
