"""Swedish identifier formats: checkers, normalisers, and agreement with the PyPI reference libraries."""

from __future__ import annotations

import random
from datetime import date

import pytest
from organisationsnummer import organisationsnummer as orgnr_lib
from personnummer import personnummer as pnr_lib

from brygga.canonical.formats import (
    FORMAT_CHECKERS,
    InvalidIdentifier,
    is_fastighetsbeteckning,
    is_kommunkod,
    is_organisationsnummer,
    is_personnummer,
    is_postnummer,
    normalise_fastighetsbeteckning,
    normalise_organisationsnummer,
    normalise_personnummer,
    normalise_postnummer,
)

# A fixed "today" so the century of short forms does not depend on when the suite runs.
TODAY = date(2026, 11, 23)


# --- personnummer ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("198005122380", "198005122380"),
        ("19800512-2380", "198005122380"),
        ("800512-2380", "198005122380"),
        ("8005122380", "198005122380"),
        ("  800512-2380\n", "198005122380"),
        # Samordningsnummer: day 74 is the 14th plus 60.
        ("199102741239", "199102741239"),
        ("910274-1239", "199102741239"),
    ],
)
def test_normalise_personnummer_accepts_the_usual_forms(text: str, expected: str) -> None:
    assert normalise_personnummer(text, today=TODAY) == expected
    assert is_personnummer(expected)
    assert pnr_lib.valid(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # '+' means 100 or older: the same digits one century earlier.
        ("800512+2380", "188005122380"),
        # A birthday later this year with this year's digits cannot be a "-" number born this year.
        ("261124-1239", "192611241239"),
        ("261123-1230", "202611231230"),
        ("270101-1237", "192701011237"),
        # 2000 is a leap year, so 29 February exists with '-' (born 2000).
        ("000229-1235", "200002291235"),
    ],
)
def test_normalise_personnummer_resolves_the_century(text: str, expected: str) -> None:
    assert normalise_personnummer(text, today=TODAY) == expected


def test_century_follows_the_reference_date() -> None:
    assert normalise_personnummer("261124-1239", today=date(2026, 11, 24)) == "202611241239"
    assert normalise_personnummer("261124-1239", today=date(2026, 11, 23)) == "192611241239"


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("198005122381", "luhn"),
        ("800512-2381", "luhn"),
        ("800230-1235", "date"),  # 30 February
        ("000229+1235", "date"),  # 1900 was no leap year
        ("910292-1237", "date"),  # samordningsnummer day 92 is day 32
        ("800512-0004", "serial"),
        ("19800512+2380", "shape"),  # '+' with a four-digit year contradicts itself
        ("1980-05-12-2380", "shape"),
        ("19800512 2380", "shape"),
        ("80051223800", "shape"),
        ("", "shape"),
        ("١٩٨٠٠٥١٢٢٣٨٠", "shape"),  # Arabic-Indic digits
    ],
)
def test_normalise_personnummer_rejects_with_the_rule_and_without_the_value(text: str, rule: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalise_personnummer(text, today=TODAY)
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.identifier == "personnummer"
    assert error.rule == rule
    digits = "".join(ch for ch in text if ch.isdigit())
    assert text.strip() not in str(error) or not text.strip()
    assert digits not in str(error) or not digits
    assert error.__cause__ is None and error.__context__ is None


def test_normalise_personnummer_rejects_non_text() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalise_personnummer(198005122380)  # type: ignore[arg-type]
    assert caught.value.rule == "type"
    assert "198005122380" not in str(caught.value)


@pytest.mark.parametrize(
    "value",
    [
        "19800512-2380",  # canonical form has no separator
        "8005122380",  # canonical form has the century
        "198005122380\n",  # the PyPI library accepts this; the canonical form does not
        "198005122381",
        "000005122380",  # year 0
        "١٩٨٠٠٥١٢٢٣٨٠",
    ],
)
def test_is_personnummer_only_accepts_the_canonical_form(value: str) -> None:
    assert not is_personnummer(value)


def test_is_personnummer_agrees_with_the_pypi_library() -> None:
    rng = random.Random(20261123)
    checked_valid = 0
    for _ in range(20_000):
        # Real dates in the 1900s and 2000s with random serials: about one in ten passes Luhn.
        born = date.fromordinal(rng.randint(date(1900, 1, 1).toordinal(), date(2025, 12, 31).toordinal()))
        day = born.day + (60 if rng.random() < 0.2 else 0)
        candidate = f"{born:%Y%m}{day:02d}{rng.randint(0, 9999):04d}"
        assert is_personnummer(candidate) == pnr_lib.valid(candidate), "disagreement on a generated number"
        checked_valid += is_personnummer(candidate)
    for _ in range(5_000):
        candidate = rng.choice(["19", "20"]) + f"{rng.randint(0, 10**10 - 1):010d}"
        assert is_personnummer(candidate) == pnr_lib.valid(candidate), "disagreement on a random number"
    assert checked_valid > 1_000  # the comparison really covered valid numbers, not only rejections


# --- organisationsnummer --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("556036-0793", "5560360793"),
        ("5560360793", "5560360793"),
        ("16556036-0793", "5560360793"),
        ("165560360793", "5560360793"),
        ("212000-2122", "2120002122"),
        # A sole trader's organisationsnummer is their personnummer, written with 10 digits.
        ("800512-2380", "8005122380"),
        ("19800512-2380", "8005122380"),
    ],
)
def test_normalise_organisationsnummer(text: str, expected: str) -> None:
    assert normalise_organisationsnummer(text) == expected
    assert is_organisationsnummer(expected)
    assert orgnr_lib.valid(expected)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("556036-0794", "luhn"),
        ("5513321231", "group"),  # digits 3-4 below 20 and not a personnummer either
        ("0123456782", "group"),  # a legal person's number never starts with 0
        ("18556036-0793", "shape"),  # 12 digits, neither 16 nor a personnummer
        ("556036--0793", "shape"),
        ("55603607", "shape"),
    ],
)
def test_normalise_organisationsnummer_rejects(text: str, rule: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalise_organisationsnummer(text)
    assert caught.value.identifier == "organisationsnummer"
    assert caught.value.rule == rule
    assert text not in str(caught.value)
    assert text.replace("-", "") not in str(caught.value)


def test_is_organisationsnummer_agrees_with_the_pypi_library() -> None:
    rng = random.Random(5560360793)
    valid = 0
    for _ in range(30_000):
        candidate = f"{rng.randint(0, 10**10 - 1):010d}"
        assert is_organisationsnummer(candidate) == orgnr_lib.valid(candidate), (
            "disagreement on a random number"
        )
        valid += is_organisationsnummer(candidate)
    assert valid > 1_000
    assert not is_organisationsnummer("556036-0793")
    assert not is_organisationsnummer("165560360793")


# --- postnummer, kommunkod ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"), [("692 31", "69231"), ("69231", "69231"), (" 692\u00a031 ", "69231")]
)
def test_normalise_postnummer(text: str, expected: str) -> None:
    assert normalise_postnummer(text) == expected
    assert is_postnummer(expected)


@pytest.mark.parametrize(
    "text", ["06923", "6923", "692311", "692-31", "692  31", "SE-69231", "", "６９２３１"]
)
def test_normalise_postnummer_rejects(text: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalise_postnummer(text)
    assert caught.value.rule == "shape"
    assert not text or text not in str(caught.value)


def test_is_postnummer_wants_the_canonical_form() -> None:
    assert is_postnummer("11122")
    assert not is_postnummer("692 31")
    assert not is_postnummer("09231")
    assert not is_postnummer("６９２３１")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1881", True),
        ("0180", True),
        ("2584", True),
        ("1880", True),
        ("0280", False),  # 02 is no county code
        ("188", False),
        ("18811", False),
        ("18a1", False),
        ("", False),
    ],
)
def test_is_kommunkod(value: str, expected: bool) -> None:
    assert is_kommunkod(value) is expected


# --- fastighetsbeteckning -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "KUMLA STENEN 1:23",
        "STOCKHOLM SKEPPSHOLMEN 1:1",
        "ÖREBRO TULLEN 12:345",
        "KUMLA STENEN S:5",  # samfällighet
        "KUMLA STENEN GA:3",  # gemensamhetsanläggning
        "SUNDSVALL TEST 1",  # kvarter form, no block
        "LILLA EDET LÖDÖSE 2:14",
        "UPPLANDS-BRO KUNGSÄNGEN 4:7",
        "GÖTEBORG INOM VALLGRAVEN 10:11",
    ],
)
def test_fastighetsbeteckning_valid(value: str) -> None:
    assert is_fastighetsbeteckning(value)
    assert normalise_fastighetsbeteckning(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "Kumla Stenen 1:23",  # canonical form is upper case
        "KUMLA 1:23",  # kommun without trakt
        "KUMLA STENEN",
        "KUMLA STENEN 1:",
        "KUMLA STENEN 0:1",
        "KUMLA STENEN 1:0",
        "KUMLA STENEN X:1",
        "KUMLA  STENEN 1:23",
        "KUMLA STENEN 1:23 ",
        "KUMLA STENEN 1 : 23",
        "KUMLA-  STENEN 1:23",
        "1881 STENEN 1:23",
    ],
)
def test_fastighetsbeteckning_invalid(value: str) -> None:
    assert not is_fastighetsbeteckning(value)


def test_normalise_fastighetsbeteckning_tidies_case_and_spacing() -> None:
    assert normalise_fastighetsbeteckning("  Kumla  stenen 1 : 23 ") == "KUMLA STENEN 1:23"
    assert normalise_fastighetsbeteckning("örebro tullen 12:345") == "ÖREBRO TULLEN 12:345"
    with pytest.raises(InvalidIdentifier) as caught:
        normalise_fastighetsbeteckning("Kumla 1:23")
    assert caught.value.rule == "shape"
    assert "Kumla 1:23" not in str(caught.value)


def test_checkers_never_raise_on_odd_input() -> None:
    odd = ["", " ", "\n", "x" * 10_000, "\x00" * 12, "１２３４５６７８９０１２", "19800512238\u0660"]
    for name, check in FORMAT_CHECKERS.items():
        for value in odd:
            assert check(value) is False, name
