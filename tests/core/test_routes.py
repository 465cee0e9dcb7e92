from __future__ import annotations

import copy

import pytest

from brygga.errors import ConfigError
from brygga.routes import parse_routes

VALID = {
    "routes": [{
        "id": "kumla-bygglov",
        "tenant": {"kommunkod": "1881", "name": "Kumla kommun", "organisationsnummer": "212000-1819"},
        "source": {"adapter": "file-inbox", "config": {"path": "inbox/kumla"}},
        "mapping": "in.yaml",
        "targets": [{"id": "byggr", "adapter": "byggr", "connection": "byggr_kumla", "mapping": "out.yaml",
                     "case_types": ["bygglov"]}],
        "archive": {"adapter": "archive-folder", "config": {"path": "archive-out"}},
        "notify": {"adapter": "oep-callback", "connection": "oep_kumla"},
    }]
}


@pytest.fixture
def mappings(tmp_path):
    (tmp_path / "in.yaml").write_text("x: 1")
    (tmp_path / "out.yaml").write_text("x: 1")
    return tmp_path


def _parse(doc, mappings):
    return parse_routes(doc, file=mappings / "routes.yaml", mappings_dir=mappings)


def test_valid_routes_parse_and_route_by_case_type(mappings):
    (route,) = _parse(VALID, mappings)
    assert [t.id for t in route.targets_for({"caseType": "bygglov"})] == ["byggr"]
    assert route.targets_for({"caseType": "felanmalan"}) == []
    assert route.mapping_context["tenant"] == {"kommunkod": "1881", "name": "Kumla kommun",
                                               "organisationsnummer": "212000-1819"}
    assert route.notify is not None and "{diarienummer}" in route.notify.message


def _broken(mutate):
    doc = copy.deepcopy(VALID)
    route = doc["routes"][0]
    mutate(route)
    for parent in (route, *route.get("targets", [])):  # None marks a key the mutation takes away
        for key in [k for k, v in parent.items() if v is None]:
            del parent[key]
    return doc


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda r: r["tenant"].update(kommunkod="18"), r"/routes/0/tenant/kommunkod: .*rule: pattern"),
    (lambda r: r.update(password="hunter2"), r"/routes/0: .*password.*rule: additionalProperties"),
    (lambda r: r["targets"][0].update(mapping=None, case_types=None),
     r"/routes/0/targets/0: give mapping \+ case_types or mappings \(rule: oneOf\)"),
    (lambda r: r.update(mappings=["in.yaml"]), r"/routes/0: give mapping or mappings, not both"),
    (lambda r: r["targets"][0].pop("case_types"),
     r"/routes/0/targets/0: case_types missing: give it with mapping, or use mappings instead \(rule: oneOf\)"),
    (lambda r: r.update(retry={"budget": "24x"}),
     r"/routes/0/retry/budget: expected a duration: a whole number of seconds, or a number with a unit"),
    (lambda r: r.update(mapping=None, mappings=["in.yaml", "./in.yaml"]),
     r"/routes/0/mappings/1: './in.yaml' is the same file as mappings/0"),
    (lambda r: r.update(mapping=None, mappings=["in.yaml", "gone.yaml"]),
     r"/routes/0/mappings/1: mapping file 'gone.yaml' not found"),
    (lambda r: r["targets"][0].update(mapping=None, case_types=None, mappings={"Bygglov": "out.yaml"}),
     r"/routes/0/targets/0/mappings: .*rule: pattern"),
    (lambda r: r["notify"].update(message="Ärende {arendenummer} mottaget"),
     r"/routes/0/notify/message: unknown placeholder \{arendenummer\}: \{diarienummer\} is the only placeholder"),
    (lambda r: r.update(targets=[]) or r["notify"].update(message="Diarienummer {diarienummer}"),
     r"/routes/0/notify/message: unknown placeholder \{diarienummer\}: without a case system there is no"),
    (lambda r: r["source"].update(adapter="ftp-magic"), r"/routes/0/source/adapter: unknown adapter 'ftp-magic'"),
    (lambda r: r["source"]["config"].update(colour="red"), r"/routes/0/source/config: .*colour"),
    (lambda r: r.update(mapping="missing.yaml"), r"/routes/0/mapping: mapping file 'missing.yaml' not found"),
    (lambda r: r.update(mapping="../../etc/passwd"), r"/routes/0/mapping: mapping path must stay inside"),
])
def test_errors_name_the_file_the_path_and_the_rule(mappings, mutate, expected):
    with pytest.raises(ConfigError, match=expected) as info:
        _parse(_broken(mutate), mappings)
    assert "routes.yaml" in str(info.value)


def test_duplicate_route_ids_are_refused(mappings):
    doc = copy.deepcopy(VALID)
    doc["routes"].append(copy.deepcopy(doc["routes"][0]))
    with pytest.raises(ConfigError, match="used twice"):
        _parse(doc, mappings)


def test_a_route_takes_several_inbound_mappings_and_a_target_one_mapping_per_case_type(mappings):
    (mappings / "attefall.yaml").write_text("x: 1")
    (mappings / "anm.yaml").write_text("x: 1")
    doc = copy.deepcopy(VALID)
    route = doc["routes"][0]
    del route["mapping"], route["targets"][0]["mapping"], route["targets"][0]["case_types"]
    route["mappings"] = ["in.yaml", "attefall.yaml"]
    route["targets"][0]["mappings"] = {"bygglov": "out.yaml", "attefall": "anm.yaml"}
    (parsed,) = _parse(doc, mappings)
    assert [p.name for p in parsed.mappings] == ["in.yaml", "attefall.yaml"]
    (byggr,) = parsed.targets_for({"caseType": "attefall"})
    assert byggr.case_types == ("bygglov", "attefall")
    assert byggr.mapping_for("attefall").name == "anm.yaml" and byggr.mapping_for("bygglov").name == "out.yaml"


def test_a_route_without_targets_archives_and_notifies_without_a_diarienummer(mappings):
    doc = copy.deepcopy(VALID)
    del doc["routes"][0]["targets"]
    (route,) = _parse(doc, mappings)
    assert route.targets == () and route.targets_for({"caseType": "bygglov"}) == []
    assert route.notify is not None
    assert "{" not in route.notify.message + route.notify.amendment_message


def test_case_types_without_a_case_system_beside_targets_get_texts_without_a_diarienummer(mappings):
    doc = copy.deepcopy(VALID)
    route = doc["routes"][0]
    route["without_case_system"] = ["felanmalan", "varmepump"]
    route["notify"]["case_types"] = {"varmepump": {"message": "Miljöenheten har fått din anmälan."},
                                     "bygglov": {"status": "Registrerad"}}
    (parsed,) = _parse(doc, mappings)
    assert parsed.has_case_system("bygglov") and not parsed.has_case_system("felanmalan")
    notify = parsed.notify
    assert notify.texts("bygglov")["status"] == "Registrerad"
    assert "{diarienummer}" in notify.texts("bygglov")["message"] == notify.texts("attefall")["message"]
    assert notify.texts("felanmalan")["message"] == "Ditt ärende har tagits emot."
    assert notify.texts("felanmalan")["amendment_message"] == "Din komplettering har tagits emot."
    assert notify.texts("varmepump")["message"] == "Miljöenheten har fått din anmälan."


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda r: r.update(without_case_system=["bygglov"]),
     r"/routes/0/without_case_system: bygglov also has a target"),
    (lambda r: r.update(without_case_system=["felanmalan"]) or r["notify"].update(
        case_types={"felanmalan": {"message": "Diarienummer {diarienummer}"}}),
     r"/routes/0/notify/case_types/felanmalan/message: unknown placeholder \{diarienummer\}: without a case system"),
    (lambda r: r.update(without_case_system=["felanmalan"]) or r["notify"].update(status="Registrerad {diarienummer}"),
     r"/routes/0/notify/status: has \{diarienummer\}, which felanmalan \(without a case system\) would inherit; "
     r"give /routes/0/notify/case_types/felanmalan/status"),
    (lambda r: r["notify"].update(case_types={"bygglv": {"status": "Mottagen"}}),
     r"/routes/0/notify/case_types/bygglv: this route has no target for that case type"),
])
def test_a_case_type_without_a_case_system_is_checked(mappings, mutate, expected):
    with pytest.raises(ConfigError, match=expected):
        _parse(_broken(mutate), mappings)
