"""Versions of one e-service reference: duplicate or amendment, what changed, which documents are new."""

from __future__ import annotations

import copy
from types import SimpleNamespace

from brygga.pipeline.revisions import changed_fields, classify, fingerprint, new_attachments

CASE = {
    "caseType": "bygglov",
    "source": {"system": "open-eplatform", "reference": "1001"},
    "parties": [{"kind": "person", "givenName": "Anna"}],
    "details": {"bygglov": {"measure": "nybyggnad", "description": "Ett hus"}},
    "attachments": [{"name": "a.pdf", "sha256": "a" * 64}, {"name": "b.pdf", "sha256": "b" * 64}],
}


def _version(sid: str, content: str, revision: int | None) -> SimpleNamespace:
    return SimpleNamespace(id=sid, content_fingerprint=content, revision=revision)


def test_the_fingerprint_ignores_key_order_but_not_content() -> None:
    reordered = dict(reversed(list(copy.deepcopy(CASE).items())))
    assert fingerprint(reordered) == fingerprint(CASE)
    changed = copy.deepcopy(CASE)
    changed["details"]["bygglov"]["description"] = "Två hus"
    assert fingerprint(changed) != fingerprint(CASE)


def test_classify_finds_duplicates_and_numbers_amendments() -> None:
    assert classify([], "f1").revision == 1
    earlier = [_version("s1", "f1", 1), _version("s2", "f2", 2), _version("s3", "f1", None)]
    duplicate = classify(earlier, "f2")
    assert duplicate.revision is None and duplicate.duplicate_of == "s2"
    assert classify(earlier, "f3").revision == 3


def test_changed_fields_name_fields_never_values() -> None:
    after = copy.deepcopy(CASE)
    after["details"]["bygglov"]["description"] = "Ett större hus"
    after["parties"][0]["givenName"] = "Anna-Karin"
    after["title"] = "new"
    assert changed_fields(CASE, after) == ("details.bygglov", "parties", "title")
    assert changed_fields(CASE, copy.deepcopy(CASE)) == ()


def test_new_attachments_are_those_no_earlier_version_carried() -> None:
    after = copy.deepcopy(CASE)
    after["attachments"].append({"name": "c.pdf", "sha256": "c" * 64})
    assert new_attachments([CASE], after) == [{"name": "c.pdf", "sha256": "c" * 64}]
    assert new_attachments([CASE], CASE) == []
