"""verify_package: what the E-ARK validator does not check."""

from __future__ import annotations

from pathlib import Path

import pytest

from brygga.archive import SchemaNotFound, validate_mets_schema, verify_package


def _data_file(package: Path) -> Path:
    return next(p for p in (package / "representations/rep1/data").iterdir() if p.name != "case.json")


def test_a_sound_package_has_no_problems(package: Path) -> None:
    assert verify_package(package) == []


def test_a_changed_byte_is_a_checksum_problem(package: Path) -> None:
    target = _data_file(package)
    data = bytearray(target.read_bytes())
    data[0] ^= 0x01  # same size, different content
    target.write_bytes(bytes(data))
    problems = verify_package(package)
    assert len(problems) == 1
    assert "checksum mismatch" in problems[0] and target.name in problems[0]


def test_changed_metadata_is_caught_through_its_mdref(package: Path) -> None:
    erms = package / "metadata/descriptive/erms.xml"
    erms.write_bytes(erms.read_bytes().replace(b"KUMLA STENEN 1:23", b"KUMLA STENEN 1:234"))
    problems = verify_package(package)
    assert any("erms.xml" in p and "size mismatch" in p for p in problems)
    assert any("erms.xml" in p and "checksum mismatch" in p for p in problems)


def test_an_extra_file_is_unreferenced(package: Path) -> None:
    (package / "representations/rep1/data/smuggled.txt").write_text("hello")
    assert verify_package(package) == ["representations/rep1/data/smuggled.txt: not referenced from any METS file"]


def test_a_missing_file_is_reported(package: Path) -> None:
    _data_file(package).unlink()
    problems = verify_package(package)
    assert len(problems) == 1 and "does not exist" in problems[0]


def test_objid_must_equal_the_folder_name(package: Path) -> None:
    renamed = package.with_name("some-other-name")
    package.rename(renamed)
    problems = verify_package(renamed)
    assert problems == [f"METS.xml: OBJID {package.name!r} does not equal the folder name 'some-other-name'"]


def test_a_href_leaving_the_package_is_reported(package: Path) -> None:
    mets = package / "representations/rep1/METS.xml"
    mets.write_bytes(mets.read_bytes().replace(b'xlink:href="data/case.json"', b'xlink:href="../../../METS.xml"'))
    problems = verify_package(package)
    assert any("points outside the package" in p for p in problems)


def test_no_mets_at_all(tmp_path: Path) -> None:
    assert verify_package(tmp_path) == [f"{tmp_path.name}: no METS.xml at the package root"]


def test_schema_check_needs_its_schema_files(package: Path, tmp_path: Path) -> None:
    with pytest.raises(SchemaNotFound):
        validate_mets_schema(package, tmp_path / "no-schemas-here")
