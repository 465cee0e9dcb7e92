"""Personal data: searched by a keyed hash, masked by default, shown in clear only with an audit row first."""

from __future__ import annotations

import json
from typing import Any

import pytest
from admin_ledger import land

from brygga.admin import PERSON_KEY_CONNECTION, masked_case, person_key, person_key_secret, reveal
from brygga.admin.personal import MASK, case_person_keys
from brygga.canonical.serialize import dumps_case
from brygga.connections import EnvConnectionResolver
from brygga.errors import ConfigError
from brygga.ledger import State
from brygga.settings import REPO_ROOT

SECRET = b"k" * 32
SCHEMA = json.loads((REPO_ROOT / "schemas" / "canonical" / "case.v1.schema.json").read_text(encoding="utf-8"))

ADDRESS = {"careOf": "Lindqvist", "street": "Stationsgatan 5", "postalCode": "69232", "city": "Hallsberg",
           "country": "SE"}
PERSON = {"kind": "person", "roles": ["applicant"], "personnummer": "198503142385", "givenName": "Johan",
          "familyName": "Berglund", "email": "johan.berglund@example.se", "phone": "0705551234", "address": ADDRESS}
COMPANY = {"kind": "organisation", "roles": ["contact"], "organisationsnummer": "5560360793",
           "name": "Berglund Bygg AB", "address": {**ADDRESS, "street": "Kvarngatan 9"}}


def _case() -> dict[str, Any]:
    return {"schemaVersion": "1.1", "caseType": "bygglov", "tenant": {"kommunkod": "1881", "name": "Kumla kommun"},
            "source": {"system": "open-eplatform", "reference": "2001"}, "receivedAt": "2026-01-20T14:05:00+01:00",
            "title": "Ansökan om bygglov", "parties": [PERSON, COMPANY],
            "properties": [{"fastighetsbeteckning": "KUMLA KVARNEN 4:12", "address": "Kvarngatan 9"}],
            "details": {"bygglov": {"measure": "nybyggnad", "buildingType": "enbostadshus", "buildingArea": 128.5,
                                    "description": "Nybyggnad åt Johan Berglund, ring 070-555 12 34"}},
            "formAnswers": [{"question": "sokande/CareOf", "label": "c/o", "value": "Lindqvist"}],
            "attachments": [{"sourceId": "8101", "name": "Situationsplan.pdf", "mediaType": "application/pdf",
                             "size": 77, "sha256": "a" * 64}]}


@pytest.mark.parametrize("written", ["19850314-2385", "8503142385", "850314-2385", "198503142385",
                                     " 198503142385 "])
def test_every_usual_form_of_a_personnummer_gives_one_key(written):
    assert person_key(written, SECRET) == person_key("198503142385", SECRET)


def test_the_key_is_an_hmac_of_the_number_and_the_secret():
    key = person_key("198503142385", SECRET)
    assert len(key) == 64 and int(key, 16) >= 0
    assert person_key("198503142385", b"another secret of thirty-two chars") != key
    assert person_key("19121212-1212", SECRET) != key
    assert "198503142385" not in key and "8503142385" not in key


@pytest.mark.parametrize("bad", ["19850314-2386", "850314+23855", "not a number", "", "19851314-2385"])
def test_a_bad_number_is_refused_without_being_echoed(bad):
    with pytest.raises(ValueError) as refused:
        person_key(bad, SECRET)
    assert str(refused.value) == "not a valid personnummer"
    assert refused.value.__cause__ is None and refused.value.__suppress_context__


def test_the_secret_comes_from_its_connection():
    resolver = EnvConnectionResolver({f"BRYGGA_CONN_{PERSON_KEY_CONNECTION.upper()}":
                                      f"https://:{'s' * 32}@person-key.invalid"})
    assert person_key_secret(resolver) == b"s" * 32
    assert person_key_secret(EnvConnectionResolver({})) is None, "not configured: no keys, no error"
    weak = EnvConnectionResolver({f"BRYGGA_CONN_{PERSON_KEY_CONNECTION.upper()}": "https://:short@person-key.invalid"})
    with pytest.raises(ConfigError, match="at least 32 characters") as refused:
        person_key_secret(weak)
    assert "short" not in str(refused.value)


def test_the_case_gives_a_key_per_person_among_its_parties():
    case = _case()
    case["parties"].append({**PERSON, "roles": ["owner"]})  # the same person twice is one key
    case["parties"].append({"kind": "person", "roles": ["owner"], "personnummer": "191212121212"})
    assert case_person_keys(case, SECRET) == {person_key("198503142385", SECRET), person_key("191212121212", SECRET)}
    assert case_person_keys({"parties": [COMPANY]}, SECRET) == set()


def _schema_fields(definition: str) -> set[str]:
    return set(SCHEMA["$defs"][definition]["properties"])


def test_the_masked_case_hides_every_personal_field_of_the_schema():
    assert _schema_fields("party") - {"kind", "roles"} <= set(PERSON) | set(COMPANY), "the test covers them all"
    assert _schema_fields("postalAddress") == set(ADDRESS)
    case = _case()
    masked = masked_case(case)
    person, company = masked["parties"]
    for field in _schema_fields("party") - {"kind", "roles"}:
        if field in PERSON:
            assert person[field] == MASK, field
        if field in COMPANY:
            assert company[field] == MASK, field
    assert (person["kind"], person["roles"]) == ("person", ["applicant"])
    assert masked["properties"] == [{"fastighetsbeteckning": "KUMLA KVARNEN 4:12", "address": MASK}]
    assert masked["formAnswers"] == [{"question": "sokande/CareOf", "label": "c/o", "value": MASK}]
    assert masked["details"]["bygglov"] == {"measure": "nybyggnad", "buildingType": "enbostadshus",
                                            "buildingArea": 128.5, "description": MASK}
    assert masked["attachments"] == case["attachments"] and masked["source"] == case["source"]
    shown = json.dumps(masked, ensure_ascii=False)
    personal = [PERSON["personnummer"], "Johan", "Berglund", "johan.berglund", "0705551234", "070-555",
                *(set(ADDRESS.values()) - {"SE"}), "Kvarngatan", "5560360793"]
    for value in personal:
        assert value not in shown, value
    assert case["parties"][0]["personnummer"] == "198503142385", "the case itself is left as it was"


def test_an_attachments_name_is_shown_with_a_personnummer_or_e_mail_in_it_masked():
    case = _case()
    case["attachments"].append({**case["attachments"][0],
                                "name": "Fullmakt johan.berglund@example.se 19850314-2385.pdf"})
    situationsplan, fullmakt = masked_case(case)["attachments"]
    assert situationsplan == case["attachments"][0], "a name without personal data stays as it is"
    assert fullmakt["name"] == "Fullmakt [redacted] [redacted].pdf"
    assert {k: v for k, v in fullmakt.items() if k != "name"} == {k: v for k, v in case["attachments"][1].items()
                                                                   if k != "name"}


def test_reveal_audits_before_it_shows(ledger):
    sid = land(ledger, state=State.COMPLETED, canonical_json=dumps_case(_case()).decode())
    shown = reveal(ledger, sid, actor="admin-eva")
    assert shown["parties"][0]["personnummer"] == "198503142385"
    (audit,) = ledger.audit_log(sid)
    assert (audit.actor, audit.action, audit.submission_id) == ("admin-eva", "reveal", sid)
    assert "198503142385" not in (audit.detail or "")


def test_reveal_of_a_purged_or_untranslated_case_is_empty_but_audited(ledger):
    sid = land(ledger)
    assert reveal(ledger, sid, actor="admin-eva") == {}
    assert [a.action for a in ledger.audit_log(sid)] == ["reveal"]
    with pytest.raises(LookupError):
        reveal(ledger, "nope", actor="admin-eva")
    assert [a.submission_id for a in ledger.audit_log()] == [sid], "no audit row for an id that is not there"
