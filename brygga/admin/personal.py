"""Personal data in the admin: searched by a keyed hash, masked by default, shown in clear only with an audit row.

The ledger never stores a personnummer for search: it stores HMAC-SHA256 of the normalised number, keyed with a
secret from the Connection ``brygga_person_key`` (its password). Without the secret nobody can test a number
against the keys, and the whole space of personnummer is small enough that an unkeyed hash would be no protection.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from brygga.canonical import normalise_personnummer
from brygga.canonical.serialize import loads_case
from brygga.connections import ConnectionNotFound, ConnectionResolver
from brygga.errors import ConfigError
from brygga.ledger import Ledger
from brygga.redact import redact

PERSON_KEY_CONNECTION = "brygga_person_key"  # Airflow Connection; its password is the HMAC secret
MIN_SECRET_LENGTH = 32
MASK = "•••"

# Every field of a party but these names, reaches or identifies a person (schemas/canonical/case.v1.schema.json).
_PARTY_KEPT = frozenset({"kind", "roles"})
# A value in a case type's details is kept when it is a code (``enbostadshus``, ``2026-05-01``); free text, where
# a resident may write anything, is masked.
_CODE = re.compile(r"[A-Za-z0-9_.:+-]{1,40}")


def person_key(personnummer: str, secret: bytes) -> str:
    """The search key of a personnummer or samordningsnummer in any usual form (10 or 12 digits, with or without
    ``-``): HMAC-SHA256 of its 12 digits. ValueError, without the number, when it is none."""
    try:
        twelve = normalise_personnummer(personnummer)
    except ValueError:
        raise ValueError("not a valid personnummer") from None
    return hmac.new(secret, twelve.encode("ascii"), hashlib.sha256).hexdigest()


def person_key_secret(connections: ConnectionResolver) -> bytes | None:
    """The HMAC secret, or None when the connection is not configured (then no keys are kept or searched)."""
    try:
        connection = connections.get(PERSON_KEY_CONNECTION)
    except ConnectionNotFound:
        return None
    secret = connection.password or ""
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(f"connection {PERSON_KEY_CONNECTION!r}: its password is the secret of the personnummer "
                          f"search and must be at least {MIN_SECRET_LENGTH} characters")
    return secret.encode("utf-8")


def case_person_keys(case: dict[str, Any], secret: bytes) -> set[str]:
    """The search keys of every personnummer among the case's parties."""
    keys: set[str] = set()
    for party in case.get("parties") or []:
        number = party.get("personnummer") if isinstance(party, dict) else None
        if number:
            try:
                keys.add(person_key(str(number), secret))
            except ValueError:  # validation catches it; a key for it would find nothing anyway
                continue
    return keys


def _mask_party(party: Any) -> Any:
    if not isinstance(party, dict):
        return MASK
    return {key: value if key in _PARTY_KEPT else MASK for key, value in party.items()}


def _mask_details(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _mask_details(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_details(item) for item in value]
    if isinstance(value, str):
        return value if _CODE.fullmatch(value) and redact(value) == value else MASK
    return value  # numbers, booleans, null


def masked_case(case: dict[str, Any]) -> dict[str, Any]:
    """A copy of a canonical case for the default view: the parties' personnummer, organisationsnummer, names,
    addresses, phone numbers and e-mail, the properties' addresses, the residents' other answers and every free
    text of the details masked. Ids, codes and the title stay; the attachments' names stay with personnummer,
    e-mail addresses and phone numbers in them masked (brygga.redact). A resident's bare name in a file name
    ("Anna Svensson ritning.pdf") cannot be told from other words by its shape, and stays."""
    masked = dict(case)
    if "attachments" in case:
        masked["attachments"] = [{k: redact(v) if k == "name" and isinstance(v, str) else v for k, v in a.items()}
                                 if isinstance(a, dict) else MASK for a in case["attachments"] or []]
    if "parties" in case:
        masked["parties"] = [_mask_party(p) for p in case["parties"] or []]
    if "properties" in case:
        masked["properties"] = [{k: MASK if k == "address" else v for k, v in p.items()} if isinstance(p, dict)
                                else MASK for p in case["properties"] or []]
    if "formAnswers" in case:
        masked["formAnswers"] = [{k: MASK if k == "value" else v for k, v in a.items()} if isinstance(a, dict)
                                 else MASK for a in case["formAnswers"] or []]
    if "details" in case:
        masked["details"] = _mask_details(case["details"])
    return masked


def reveal(ledger: Ledger, submission_id: str, *, actor: str) -> dict[str, Any]:
    """The canonical case in clear, for someone allowed to see it; {} when there is none (not translated, or
    purged). The audit row (who, when, which submission) is written first: no reveal goes unrecorded."""
    submission = ledger.get(submission_id)
    ledger.audit(actor, "reveal", submission_id, "the canonical case shown with personal data in clear")
    return loads_case(submission.canonical_json) if submission.canonical_json else {}
