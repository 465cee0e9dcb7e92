"""Flaw names for the simulators' non-conforming variants: as Python gives them (a list) or a shell does ("a,b"),
the same for every simulator; a name none of them knows is refused with the known ones listed."""

from __future__ import annotations

import importlib

import pytest

from brygga_simulators.flaws import flaw_names

KNOWN = {"omits-dnr": "no Dnr in the answer", "no-fault-500": "a bare HTTP 500", "stale-wsdl": "an older WSDL"}


@pytest.mark.parametrize("given", [["omits-dnr", "stale-wsdl"], ("stale-wsdl", "omits-dnr"), "omits-dnr,stale-wsdl",
                                   " omits-dnr , stale-wsdl ,", ["omits-dnr", "stale-wsdl", "omits-dnr"]])
def test_a_list_or_a_comma_separated_text(given) -> None:
    assert flaw_names(given, KNOWN, "byggr") == {"omits-dnr", "stale-wsdl"}


@pytest.mark.parametrize("given", [None, (), "", " , "])
def test_none_is_the_simulator_as_documented(given) -> None:
    assert flaw_names(given, KNOWN, "byggr") == frozenset()


def test_an_unknown_name_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError) as refused:
        flaw_names("omits-dnr,slow", KNOWN, "byggr")
    assert str(refused.value) == "unknown byggr flaw 'slow'; known: omits-dnr, no-fault-500, stale-wsdl"


def test_every_unknown_name_is_named() -> None:
    with pytest.raises(ValueError, match=r"^unknown ecos flaws 'fast', 'slow'; known: omits-dnr, "):
        flaw_names(["slow", "fast"], KNOWN, "ecos")


@pytest.mark.parametrize(("simulator", "module"), [("byggr", "byggr"), ("ecos", "ecos"), ("work-order", "workorder"),
                                                   ("oep-callback", "oep_callback")])
def test_each_simulator_parses_its_own_flaws_so(simulator: str, module: str) -> None:
    flaws = importlib.import_module(f"brygga_simulators.{module}.flaws")
    first, second = list(flaws.FLAWS)[:2]
    assert flaws.parse_flaws(f"{first}, {second}") == {first, second}
    with pytest.raises(ValueError, match=f"^unknown {simulator} flaw 'typo'; known: {first}, {second}, "):
        flaws.parse_flaws(["typo"])
