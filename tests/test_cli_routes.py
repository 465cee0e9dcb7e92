"""The integrator's commands on routes: `routes list`, `translate` by dispatch, `test`, `schemas check`, `lint` of
what the routes schema cannot see, and where BRYGGA_CONFIG points them. Called through main() as a user would."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from brygga.cli import main
from brygga.settings import REPO_ROOT, Settings

SAMPLES = REPO_ROOT / "samples" / "open-eplatform"
BUNDLED_ROUTES = REPO_ROOT / "routes" / "routes.yaml"


def test_routes_list_shows_every_route_with_its_e_services_targets_and_schedule(capsys):
    assert main(["routes", "list", "--json"]) == 0
    routes = {r["route"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(routes) == {"kumla-bygglov", "kumla-felanmalan", "kumla-varmepump", "kumla-felanmalan-webhook",
                           "cesam-bygga-hus", "ydre-kinda-beslut"}
    bygglov = routes["kumla-bygglov"]
    assert bygglov["e-services"] == {"mappings/open-eplatform/bygglov.yaml": "FamilyID 412; or FamilyID 640",
                                     "mappings/open-eplatform/attefall.yaml": "FamilyID 127"}
    assert bygglov["targets"] == {"byggr": {"adapter": "byggr (connection byggr_kumla)", "case_types": {
        "bygglov": "mappings/byggr/bygglov.yaml", "attefall": "mappings/byggr/attefall.yaml"}}}
    assert routes["kumla-felanmalan"]["targets"]["workorder"]["adapter"] == "rest (connection workorder_kumla)"
    assert bygglov["schedule"] == "*/15 * * * *"
    assert routes["cesam-bygga-hus"]["targets"]["va-ydre"] == {
        "adapter": "rest (connection workorder_ydre)",
        "case_types": {"bygglov": "mappings/workorder/va-anslutning.yaml"},
        "tenant": "Ydre kommun (0512)", "when": "details.bygglov.vaConnection",
        "archive": "sftp-archive (connection earkiv_ydre_sftp)"}
    assert main(["routes", "list"]) == 0
    assert "                when: details.bygglov.vaConnection" in capsys.readouterr().out


def test_translate_without_a_mapping_picks_the_one_that_accepts_the_e_service(capsys):
    assert main(["translate", str(SAMPLES / "attefall-latin1.xml")]) == 0
    case = json.loads(capsys.readouterr().out)
    assert case["caseType"] == "attefall" and case["source"]["familyId"] == "127"


def test_translate_with_a_route_names_the_routes_that_would_take_another_e_service(capsys):
    assert main(["translate", "--route", "kumla-bygglov", str(SAMPLES / "varmepump-bergvarme.xml")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("no mapping accepts Open ePlatform FamilyID 515, FlowID 5160, version 2 "
                          "(Anmälan om installation av värmepump); route kumla-bygglov has:")
    assert err.rstrip().endswith("routes that accept it: kumla-varmepump")


def test_brygga_test_runs_fixture_suites_and_fails_on_a_wrong_expectation(tmp_path, capsys):
    assert main(["test", str(REPO_ROOT / "mappings" / "open-eplatform" / "attefall_test.yaml")]) == 0
    assert "0 failed, 1 suite(s)" in capsys.readouterr().out
    for folder in ("mappings", "samples"):  # a suite names its inputs relative to itself
        shutil.copytree(REPO_ROOT / folder, tmp_path / folder)
    suite = tmp_path / "mappings" / "open-eplatform" / "attefall_test.yaml"
    suite.write_text(suite.read_text(encoding="utf-8").replace('caseType: attefall', 'caseType: bygglov', 1),
                     encoding="utf-8")
    assert main(["test", str(suite)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "caseType" in out and "2 failed" in out  # the latin-1 case shares the expectation


def test_schemas_check_finds_no_breaking_change_against_the_last_release(capsys):
    assert main(["schemas", "check"]) == 0
    assert "no breaking change" in capsys.readouterr().out


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda r: r["targets"][0]["mappings"].pop("attefall"),
     "route kumla-bygglov: inbound mapping mappings/open-eplatform/attefall.yaml writes caseType attefall, "
     "which no target takes (targets take: bygglov)"),
    (lambda r: r["mappings"].append("open-eplatform/bygglov_copy.yaml"),
     "route kumla-bygglov: inbound mappings overlap:"),
    (lambda r: r["targets"][0]["mappings"].update(eldstad="byggr/bygglov.yaml"),
     "route kumla-bygglov: caseType eldstad is routed but not registered"),
    (lambda r: r["notify"].update(case_types={"felanmalning": {"status": "Mottagen"}}) or r["targets"][0].update(
        mappings={"felanmalning": "byggr/bygglov.yaml", **r["targets"][0]["mappings"]}),
     "route kumla-bygglov: notify/case_types/felanmalning: none of this route's mappings writes caseType felanmalning"),
    (lambda r: r["source"]["config"].update(path="inbox/kumla-felanmalan/"),
     "routes kumla-bygglov and kumla-felanmalan take from the same inbox inbox/kumla-felanmalan"),
    (lambda r: r.update(source={"adapter": "bus", "config": {"queue": "ydre.kinda-beslut", "bindings": ["x.#"]}}),
     "routes kumla-bygglov and ydre-kinda-beslut take from the same bus queue ydre.kinda-beslut"),
    (lambda r: r["targets"][0].update(when="details.bygglov.vaConection"),
     "route kumla-bygglov: target byggr: when details.bygglov.vaConection: a bygglov case has no such path"),
    (lambda r: r["targets"][0].update(when="parties.personnummer"),  # a list: when reads objects only
     "route kumla-bygglov: target byggr: when parties.personnummer: a bygglov case has no such path"),
])

def test_lint_finds_what_the_routes_schema_cannot_see(tmp_path, monkeypatch, capsys, edit, expected):
    mappings = tmp_path / "mappings"
    shutil.copytree(REPO_ROOT / "mappings", mappings)
    shutil.copyfile(mappings / "open-eplatform" / "bygglov.yaml", mappings / "open-eplatform" / "bygglov_copy.yaml")
    document = yaml.safe_load(BUNDLED_ROUTES.read_text(encoding="utf-8"))
    edit(document["routes"][0])
    path = tmp_path / "routes.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("BRYGGA_ROUTES", str(path))
    monkeypatch.setenv("BRYGGA_MAPPINGS", str(mappings))
    assert main(["lint"]) == 1
    assert expected in capsys.readouterr().err


def test_lint_takes_a_when_through_the_core_schema_s_definitions(tmp_path, monkeypatch, capsys):
    document = yaml.safe_load(BUNDLED_ROUTES.read_text(encoding="utf-8"))
    document["routes"][0]["targets"][0]["when"] = "source.familyId"  # the core, through its $defs
    routes = tmp_path / "routes.yaml"
    routes.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("BRYGGA_ROUTES", str(routes))
    assert main(["lint"]) == 0, capsys.readouterr()


def test_a_config_folder_holds_routes_mappings_and_case_types(tmp_path):
    (tmp_path / "case-types").mkdir()
    settings = Settings.from_env({"BRYGGA_CONFIG": str(tmp_path), "BRYGGA_HOME": str(tmp_path / "var")})
    assert settings.routes_file == tmp_path / "routes.yaml"
    assert settings.mappings_dir == tmp_path / "mappings"
    assert settings.case_types_dirs == (tmp_path / "case-types",)
    override = Settings.from_env({"BRYGGA_CONFIG": str(tmp_path), "BRYGGA_ROUTES": "/etc/brygga/routes.yaml"})
    assert override.routes_file == Path("/etc/brygga/routes.yaml") and override.mappings_dir == tmp_path / "mappings"
    (tmp_path / "case-types").rmdir()  # a config folder without case types of its own
    assert Settings.from_env({"BRYGGA_CONFIG": str(tmp_path)}).case_types_dirs == ()


def test_schemas_check_compares_the_kommuns_own_case_types_with_their_release(tmp_path, monkeypatch, capsys):
    types = tmp_path / "case-types"
    types.mkdir()
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "$id": "https://schemas.brygga.se/canonical/types/eldstad/1.0.0/eldstad.schema.json",
              "title": "Eldstad / Fireplace, v1", "description": "Eldstad / Fireplace: test.", "type": "object",
              "additionalProperties": False,
              "properties": {"fuel": {"type": "string", "enum": ["ved", "pellets"]}, "height": {"type": "number"}}}
    current = types / "eldstad.v1.schema.json"
    current.write_text(json.dumps(schema), encoding="utf-8")
    monkeypatch.setenv("BRYGGA_CONFIG", str(tmp_path))
    assert main(["schemas", "release"]) == 0
    assert (types / "released" / "eldstad.v1.json").is_file()
    assert main(["schemas", "check"]) == 0
    capsys.readouterr()
    del schema["properties"]["height"]
    schema["properties"]["fuel"]["enum"] = ["ved"]
    current.write_text(json.dumps(schema), encoding="utf-8")
    assert main(["schemas", "check"]) == 1
    out = capsys.readouterr().out
    assert f"{current}: /properties/height" in out and "pellets" in out
    assert main(["schemas", "release"]) == 1, "a breaking change is not released away"
    assert "--accept-breaking" in capsys.readouterr().err
    assert main(["schemas", "release", "--accept-breaking"]) == 0 and main(["schemas", "check"]) == 0
    current.write_text("{not json", encoding="utf-8")
    assert main(["schemas", "check"]) == 1
    assert str(current) in capsys.readouterr().err
