"""The ``brygga-ref:`` markers (brygga_adapters.markers, shared with ByggR) and where Ecos writes them."""

from __future__ import annotations

from brygga_adapters.ecos.markers import SUBTITLE_TEXT_LIMIT, marked_subtitle
from brygga_adapters.markers import amendment_marker, carries_marker, creation_marker


def test_a_reference_with_a_percent_sign_is_not_mistaken_for_one_with_whitespace():
    spaced, percent = creation_marker("1881:oep:a b"), creation_marker("1881:oep:a%20b")

    assert spaced != percent
    assert not carries_marker(f"Anmälan {spaced}", percent)
    assert not carries_marker(f"Anmälan {percent}", spaced)
    assert amendment_marker("a b", 2) != amendment_marker("a%20b", 2)


def test_markers_of_earlier_versions_are_still_the_markers_written_today():
    # Earlier versions escaped whitespace only; a reference without '%' must give the same marker as then, or a
    # retry after an upgrade would not find the case its first attempt made.
    assert creation_marker("1881:open-eplatform:5203") == "brygga-ref:1881:open-eplatform:5203"
    assert amendment_marker("1881:open-eplatform:5203", 3) == "brygga-ref:1881:open-eplatform:5203#3"
    assert creation_marker("ref with\ttab") == "brygga-ref:ref%20with%09tab"
    assert creation_marker("100%") == "brygga-ref:100%25"


def test_a_marker_is_one_token_matched_whole():
    marker = creation_marker("1881:oep:7 %x")
    assert marker.split() == [marker]
    assert carries_marker(f"text\n{marker}", marker)
    assert not carries_marker(f"text {amendment_marker('1881:oep:7 %x', 2)}", marker)


def test_the_subtitle_keeps_its_marker_whole_however_long_the_text():
    marker = creation_marker("1881:oep:7")
    subtitle = marked_subtitle("x" * 500, marker)

    assert subtitle.endswith(f"… {marker}") and len(subtitle) == SUBTITLE_TEXT_LIMIT + 1 + len(marker)
    assert carries_marker(subtitle, marker)
    assert marked_subtitle("  ", marker) == marker
