"""`brygga validate`, run through main() as the console script runs it: text in English and Swedish, the JSON report,
the exit codes, and e-service XML through the mapping that accepts it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from brygga.resources import resource

EXAMPLES = resource("schemas", "canonical", "examples")
SAMPLES = resource("samples", "open-eplatform")
BAD_PERSONNUMMER = "198005122381"  # put in broken_case: the example's number with its last digit wrong


def _xml_bad_numbers() -> tuple[str, str]:
    """The applicant's number in bygglov-bad-personnummer.xml (its check digit wrong), as the file writes it and as
    the twelve digits the mapping makes of it: read from the file, so that the test follows it."""
    tree = etree.parse(SAMPLES / "bygglov-bad-personnummer.xml")
    [written] = tree.xpath("//*[local-name()='sokande']/*[local-name()='SocialSecurityNumber']/text()")
    return written, written.replace("-", "")


@pytest.fixture(autouse=True)
def _bundled_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BRYGGA_CONFIG", "BRYGGA_CASE_TYPES", "BRYGGA_ROUTES", "BRYGGA_MAPPINGS", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")


@pytest.fixture
def broken_case(tmp_path: Path) -> Path:
    """The bygglov example with an unknown measure and a wrong personnummer."""
    case = json.loads((EXAMPLES / "bygglov-person.json").read_text(encoding="utf-8"))
    case["details"]["bygglov"]["measure"] = "pool"
    case["parties"][0]["personnummer"] = BAD_PERSONNUMMER
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case), encoding="utf-8")
    return path


def test_valid_files_exit_0(brygga) -> None:  # type: ignore[no-untyped-def]
    ran = brygga("validate", str(EXAMPLES / "attefall.json"), str(EXAMPLES / "status" / "decision-made.json"))
    assert (ran.code, ran.err) == (0, "")
    assert ran.out.splitlines() == [
        f"{EXAMPLES / 'attefall.json'}: valid against case@1.1.0",
        f"{EXAMPLES / 'status' / 'decision-made.json'}: valid against status-event@1.0.0",
        "2 file(s): 2 valid, 0 invalid",
    ]


def test_each_problem_is_printed_with_its_path_rule_and_hint_in_english(brygga, broken_case) -> None:  # type: ignore[no-untyped-def]
    ran = brygga("validate", "--schema", "bygglov", str(broken_case))
    assert ran.code == 1
    assert ran.out.splitlines() == [
        f"{broken_case}: invalid against bygglov@1.1.0, 2 problem(s)",
        "  /parties/0/personnummer  format:personnummer",
        "    Not a valid personnummer or samordningsnummer: expected 12 digits YYYYMMDDNNNC with a real date (day + "
        "60 for samordningsnummer) and a correct Luhn check digit.",
        '    hint: Personal identity or coordination number: e.g. "198005122380"',
        "  /details/bygglov/measure  enum",
        '    Value is not one of the allowed values: "nybyggnad", "tillbyggnad", "ombyggnad", "andrad_anvandning", '
        '"fasadandring", "rivning", "marklov", "skylt", "annat".',
        '    hint: Measure: e.g. "nybyggnad"',
    ]
    assert BAD_PERSONNUMMER not in ran.out and "pool" not in ran.out


def test_swedish_by_option_or_by_the_locale(brygga, broken_case, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    by_option = brygga("validate", "--lang", "sv", str(broken_case))
    monkeypatch.setenv("LANG", "sv_SE.UTF-8")
    by_locale = brygga("validate", str(broken_case))
    assert by_option == by_locale
    assert by_option.code == 1
    assert f"{broken_case}: ogiltig mot case@1.1.0, 2 fel" in by_option.out
    assert "    Inte ett giltigt personnummer eller samordningsnummer" in by_option.out
    assert '    tips: Åtgärd: t.ex. "nybyggnad"' in by_option.out
    assert BAD_PERSONNUMMER not in by_option.out
    monkeypatch.setenv("LC_ALL", "en_GB.UTF-8")  # LC_ALL goes before LANG
    assert "invalid against case@1.1.0" in brygga("validate", str(broken_case)).out


def test_the_json_report(brygga, broken_case, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ran = brygga("validate", "--format", "json", "--lang", "sv", str(broken_case), str(tmp_path / "missing.json"))
    assert ran.code == 1
    report = json.loads(ran.out)
    assert report["valid"] is False
    first, missing = report["files"]
    assert (first["file"], first["schema"], first["valid"], first["error"]) == (str(broken_case), "case@1.1.0",
                                                                                False, None)
    assert [(p["path"], p["rule"]) for p in first["problems"]] == [
        ("/parties/0/personnummer", "format:personnummer"), ("/details/bygglov/measure", "enum")]
    assert first["problems"][1]["hint"] == 'Åtgärd: t.ex. "nybyggnad"'
    assert set(first["problems"][0]) == {"path", "rule", "message", "hint"}
    assert (missing["valid"], missing["schema"], missing["problems"]) == (False, None, [])
    assert missing["error"] == f"{tmp_path / 'missing.json'}: cannot read: No such file or directory"


def test_an_unknown_schema_is_a_usage_error_listing_the_known_ones(brygga) -> None:  # type: ignore[no-untyped-def]
    ran = brygga("validate", "--schema", "eldstad", str(EXAMPLES / "felanmalan.json"))
    assert (ran.code, ran.out) == (2, "")
    assert ran.err.startswith("brygga validate: no schema named 'eldstad'; known: case, attefall, bygglov")
    assert brygga("validate", "--lang", "de", str(EXAMPLES / "felanmalan.json")).code == 2
    assert brygga("validate").code == 2  # FILE is required


def test_e_service_xml_is_validated_through_its_mapping(brygga) -> None:  # type: ignore[no-untyped-def]
    valid = brygga("validate", str(SAMPLES / "bygglov-person.xml"))
    assert (valid.code, valid.out.strip()) == (0, f"{SAMPLES / 'bygglov-person.xml'}: valid against case@1.1.0")
    bad = brygga("validate", "--route", "kumla-bygglov", str(SAMPLES / "bygglov-bad-personnummer.xml"))
    assert bad.code == 1
    assert bad.out.splitlines()[1:3] == [
        "  /parties/0/personnummer  mapping",
        "    The e-service's XML could not be mapped to this field: value is not a valid personnummer: the check "
        "digit does not match (Luhn)",
    ]
    assert "source in the e-service's XML: fi:Values/fi:sokande[1]/fi:SocialSecurityNumber" in bad.out
    as_json = brygga("validate", "--format", "json", "--lang", "sv", str(SAMPLES / "bygglov-bad-personnummer.xml"))
    assert as_json.code == 1
    for number in _xml_bad_numbers():
        assert number not in bad.out + bad.err and number not in as_json.out + as_json.err


def test_malformed_xml_is_an_error_naming_the_file(brygga) -> None:  # type: ignore[no-untyped-def]
    ran = brygga("validate", str(SAMPLES / "bygglov-malformed.xml"), str(EXAMPLES / "felanmalan.json"))
    assert ran.code == 1
    assert ran.out.splitlines()[0].startswith(f"{SAMPLES / 'bygglov-malformed.xml'}: error: not well-formed XML")
    assert ran.out.splitlines()[-1] == "2 file(s): 1 valid, 1 invalid"


@pytest.fixture
def crowded_case(tmp_path: Path) -> Path:
    """The bygglov example with 2,000 numbers where its parties go: 2,001 problems."""
    case = json.loads((EXAMPLES / "bygglov-person.json").read_text(encoding="utf-8"))
    case["parties"] = [1] * 2000
    path = tmp_path / "crowded.json"
    path.write_text(json.dumps(case), encoding="utf-8")
    return path


def test_a_file_with_a_great_many_problems_lists_the_first_100_and_counts_the_rest(brygga, crowded_case) -> None:  # type: ignore[no-untyped-def]
    english = brygga("validate", str(crowded_case))
    assert english.code == 1
    lines = english.out.splitlines()
    assert lines[0] == f"{crowded_case}: invalid against case@1.1.0, 2,001 problem(s)"
    assert sum(line.startswith("  /parties") for line in lines) == 100
    assert lines[-1] == "  … and 1,901 more"
    swedish = brygga("validate", "--lang", "sv", str(crowded_case))
    assert swedish.out.splitlines()[0] == f"{crowded_case}: ogiltig mot case@1.1.0, 2 001 fel"
    assert swedish.out.splitlines()[-1] == "  … och 1 901 till"
    [report] = json.loads(brygga("validate", "--format", "json", str(crowded_case)).out)["files"]
    assert (len(report["problems"]), report["total"], report["truncated"]) == (100, 2001, True)


def test_an_unknown_route_is_a_usage_error_listing_the_routes(brygga) -> None:  # type: ignore[no-untyped-def]
    ran = brygga("validate", "--route", "nowhere", str(SAMPLES / "bygglov-person.xml"))
    assert (ran.code, ran.out) == (2, "")
    assert ran.err.startswith("brygga validate: ") and "no route nowhere; known: " in ran.err
    assert "kumla-bygglov" in ran.err


def test_a_broken_routes_file_exits_3_as_a_broken_configuration_does(brygga, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    routes = tmp_path / "routes.yaml"
    routes.write_text("routes: [\n", encoding="utf-8")
    monkeypatch.setenv("BRYGGA_ROUTES", str(routes))
    ran = brygga("validate", str(SAMPLES / "bygglov-person.xml"))
    assert (ran.code, ran.out) == (3, "")
    assert ran.err.startswith("brygga validate: ") and str(routes) in ran.err
    assert brygga("validate", "--route", "kumla-bygglov", str(EXAMPLES / "felanmalan.json")).code == 3
