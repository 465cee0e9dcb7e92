"""`brygga translate` and `brygga lint`, called through main() as a user would call the console script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from brygga.cli import main, parse_context

REPO = Path(__file__).resolve().parents[1]
MAPPING = REPO / "mappings" / "open-eplatform" / "bygglov.yaml"
SAMPLES = REPO / "tests" / "samples" / "open-eplatform"
SHARED_SAMPLE = REPO.parent / "shared" / "samples" / "open-eplatform" / "bygglov-1001.xml"
# The real-shaped shared sample when it is beside the checkout, else the project's own look-alike.
SAMPLE = SHARED_SAMPLE if SHARED_SAMPLE.is_file() else SAMPLES / "bygglov-person.xml"


def test_translate_prints_the_canonical_case(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["translate", "--mapping", str(MAPPING), str(SAMPLE)]) == 0
    out, err = capsys.readouterr()
    case = json.loads(out)
    assert err == ""
    assert case["caseType"] == "bygglov"
    assert case["tenant"] == {"kommunkod": "1881", "name": "Kumla kommun"}  # the mapping's defaults
    assert case["source"]["system"] == "open-eplatform"
    assert case["receivedAt"].endswith(("+01:00", "+02:00"))
    assert case["parties"][0]["roles"] == ["applicant"]
    assert all(len(a["sha256"]) == 64 and "EncodedData" not in a for a in case["attachments"])
    assert "Ansökan" in out  # ensure_ascii=False: Swedish letters as letters


def test_translate_context_overrides_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["translate", "--mapping", str(MAPPING), "--context", "tenant.kommunkod=1880",
                 "--context", "tenant.name=Örebro kommun", str(SAMPLES / "bygglov-latin1.xml")])
    assert code == 0
    case = json.loads(capsys.readouterr().out)
    assert case["tenant"] == {"kommunkod": "1880", "name": "Örebro kommun"}
    assert case["parties"][0]["familyName"] == "Åström"


def test_a_bad_personnummer_exits_1_naming_mapping_rule_and_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["translate", "--mapping", str(MAPPING), str(SAMPLES / "bygglov-bad-personnummer.xml")]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip().splitlines() == [
        f"mapping {MAPPING}: rule parties[0].personnummer (source fi:Values/fi:sokande[1]/fi:SocialSecurityNumber):"
        " value is not a valid personnummer: the check digit does not match (Luhn)"
    ]
    for form in ("19850314-2386", "198503142386", "8503142386"):
        assert form not in err


@pytest.mark.parametrize(("sample", "reason"), [
    ("bygglov-malformed.xml", "not well-formed XML"),
    ("bygglov-xxe.xml", "DOCTYPE/DTD is not allowed"),
    ("bygglov-doctype.xml", "bygglov-doctype.xml"),
    ("no-such-file.xml", "cannot read"),
])
def test_input_errors_name_the_input_file(capsys: pytest.CaptureFixture[str], sample: str, reason: str) -> None:
    path = SAMPLES / sample
    assert main(["translate", "--mapping", str(MAPPING), str(path)]) == 1
    err = capsys.readouterr().err
    assert f"input {path}" in err
    assert reason in err


def test_a_broken_mapping_is_reported_with_file_and_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("source: xml\noutput:\n  a: {path: 'x[', required: true}\n", encoding="utf-8")
    assert main(["translate", "--mapping", str(broken), str(SAMPLE)]) == 1
    assert f"mapping {broken}: output.a.path: invalid XPath" in capsys.readouterr().err
    assert main(["lint", str(tmp_path)]) == 1
    assert f"mapping {broken}: output.a.path" in capsys.readouterr().err


def test_lint_accepts_the_project_mappings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(REPO / "mappings" / "open-eplatform")]) == 0
    assert capsys.readouterr().out.strip() == "ok"


def test_parse_context_builds_nested_keys() -> None:
    assert parse_context(["tenant.kommunkod=1881", "tenant.name=Kumla kommun", "route=x=y"]) == {
        "tenant": {"kommunkod": "1881", "name": "Kumla kommun"}, "route": "x=y"}
    with pytest.raises(ValueError, match="key=value"):
        parse_context(["novalue"])
