"""mappings/ecos/varmepump.yaml's output is what the ecos target delivers: preflight finds nothing to refuse,
and the simulator ends up with the case, both parties with their roles and both estates."""

from __future__ import annotations

import json
from pathlib import Path

from ecos_delivery_data import CONFIG, FASTIGHETSAGARE, KONTAKTPERSON, SOKANDE

from brygga.mapping import compile_mapping
from brygga_adapters.ecos import EcosTarget

MAPPINGS = Path(__file__).resolve().parents[3] / "mappings" / "ecos"


def test_the_mapped_varmepump_case_is_delivered(ecos, connection, make_request):
    case = json.loads((MAPPINGS / "testdata" / "varmepump-jord-organisation.json").read_text(encoding="utf-8"))
    payload = compile_mapping(MAPPINGS / "varmepump.yaml").run(case)
    assert EcosTarget.preflight(CONFIG, {"attachments": [{}]}, payload) == []

    receipt = EcosTarget(CONFIG, connection).deliver(make_request(payload))

    stored = ecos.app.case_by_number(receipt.external_ref)
    organisation = next(p for p in ecos.app.parties.values() if p.kind == "organization")
    person = next(p for p in ecos.app.parties.values() if p.kind == "person")
    assert (organisation.identity_number, person.identity_number) == ("5560360793", "198005122380")
    assert {(c.party_id, c.role_id) for c in stored.roles} == {
        (organisation.party_id, SOKANDE), (organisation.party_id, FASTIGHETSAGARE), (person.party_id, KONTAKTPERSON)
    }
    assert sorted(e.fnr for e in stored.estates) == [22044301, 22044332]


def test_preflight_asks_for_the_fnr_when_the_route_has_no_property_lookup():
    case = json.loads((MAPPINGS / "testdata" / "varmepump-bergvarme.json").read_text(encoding="utf-8"))
    payload = compile_mapping(MAPPINGS / "varmepump.yaml").run(case)

    (problem,) = EcosTarget.preflight(CONFIG, case, payload)
    assert problem.startswith("estates[0].fnr: required, an integer: AddEstateToCase takes the property key (FNR)")
