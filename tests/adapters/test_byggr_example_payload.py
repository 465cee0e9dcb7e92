from byggr_example_payload import example_payload_from_case


def test_roles_identifiers_and_property_are_mapped(canonical_case):
    payload = example_payload_from_case(canonical_case)

    applicant, owner = payload["intressentLista"]["intressent"]
    assert applicant["rollLista"] == {"roll": ["SOK"]}
    assert applicant["persOrgNr"] == "19800512-2380"
    assert applicant["arForetag"] is False
    assert applicant["postNr"] == "692 31"
    assert {k["komtyp"] for k in applicant["intressentKommunikationLista"]["intressentKommunikation"]} == {
        "EPOST",
        "MOB",
    }
    assert owner["rollLista"] == {"roll": ["FAG"]}
    assert owner["persOrgNr"] == "16556036-0793"
    assert owner["arForetag"] is True

    (objekt,) = payload["objektLista"]["abstractArendeObjekt"]
    assert objekt == {
        "_type": "arendeFastighet",
        "arHuvudObjekt": True,
        "fastighet": {"trakt": "KUMLA STENEN", "fbetNr": "1:23"},
    }
    assert payload["ankomstDatum"] == "2026-10-14"
    assert payload["komkod"] == "1881"
    assert "externRef" not in payload  # the adapter sets it from the request


def test_a_known_property_key_is_sent_as_fnr(canonical_case):
    canonical_case["properties"][0]["fastighetsnyckel"] = 22044332

    (objekt,) = example_payload_from_case(canonical_case)["objektLista"]["abstractArendeObjekt"]

    assert objekt["fastighet"] == {"fnr": 22044332, "trakt": "KUMLA STENEN", "fbetNr": "1:23"}
