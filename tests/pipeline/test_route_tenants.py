"""One life event across two kommuner: a submission fans out to targets that work for different tenants.

The route is Kinda's; its second target is Ydre's building-permit system, taking only cases that carry a VA
connection (``when``). Both are ByggR simulators here, so the test is about routing, keys, context and archives,
not about one adapter.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from routing import SAMPLES, RouteRun, dead_url, local

from brygga.ledger import State
from brygga.pipeline.keys import extern_ref
from brygga_simulators import RunningSimulator, start_simulator
from brygga_simulators.byggr import ByggrSimulator

ROUTES = """
tenants:
  kinda: {kommunkod: "0513", name: Kinda kommun, organisationsnummer: "212000-0514"}
  ydre:
    kommunkod: "0512"
    name: Ydre kommun
    organisationsnummer: "212000-0506"
    values: {va_kategori: VA-ANSL}
routes:
  - id: cesam-bygga-hus
    tenant: kinda
    source: {adapter: file-inbox, config: {path: inbox/cesam-bygga-hus}}
    mappings: [open-eplatform/bygglov.yaml]
    targets:
      - id: byggr-kinda
        adapter: byggr
        connection: byggr_kinda
        mappings: {bygglov: byggr/bygglov.yaml}
      - id: byggr-ydre
        tenant: ydre
        when: details.bygglov.vaConnection
        adapter: byggr
        connection: byggr_ydre
        mappings: {bygglov: byggr/bygglov.yaml}
        archive: {adapter: archive-folder, config: {path: archive-ydre}, submission_agreement: YDRE-LÖ-1}
    archive: {adapter: archive-folder, config: {path: archive-kinda}, submission_agreement: KINDA-LÖ-1}
    retry: {budget: 24h, first_delay: 30s, max_delay: 30m, in_doubt_delay: 60s}
"""


def _building_permit_system() -> Iterator[RunningSimulator]:
    with start_simulator(ByggrSimulator()) as sim:
        yield sim


kinda = pytest.fixture(_building_permit_system, name="kinda")
ydre = pytest.fixture(_building_permit_system, name="ydre")


@pytest.fixture
def route(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kinda: RunningSimulator) -> RouteRun:
    monkeypatch.setenv("BRYGGA_HOME", str(tmp_path))
    routes = tmp_path / "routes.yaml"
    routes.write_text(ROUTES, encoding="utf-8")
    monkeypatch.setenv("BRYGGA_ROUTES", str(routes))
    run = RouteRun(tmp_path, monkeypatch, "cesam-bygga-hus")
    run.connect("byggr_kinda", local(kinda))
    return run


def _komkod(sim: RunningSimulator) -> list[str]:
    return [case.element.get("komkod") for case in sim.app.cases.values()]


def _described(package: Path) -> str:
    """What the package says about its creator, agreement and case: the METS header and the ERMS record."""
    return "".join(package.joinpath(name).read_text(encoding="utf-8")
                   for name in ("METS.xml", "metadata/descriptive/erms.xml"))


def _packages(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".")) if folder.exists() else []


def test_the_life_event_reaches_both_kommuner_with_their_own_keys_context_and_archive(
        route: RouteRun, ydre: RunningSimulator, kinda: RunningSimulator) -> None:
    route.connect("byggr_ydre", local(ydre))
    data = route.drop("bygga-hus-va.xml")
    route.run()

    submission = route.submission(data)
    assert submission.state == State.COMPLETED
    assert _komkod(kinda) == ["0513"] and _komkod(ydre) == ["0512"]  # one shared mapping, each tenant's context
    case = route.context().case(submission.id)
    (kinda_case,), (ydre_case,) = kinda.app.cases.values(), ydre.app.cases.values()
    # Both keyed by the kommun it came in through: Ydre's own platform may number its submissions the same way.
    assert kinda_case.extern_ref == ydre_case.extern_ref == extern_ref(case, "0513")

    (kinda_package,), (ydre_package,) = _packages(route.home / "archive-kinda"), _packages(route.home / "archive-ydre")
    kinda_mets, ydre_mets = (_described(p) for p in (kinda_package, ydre_package))
    assert "Kinda kommun" in kinda_mets and "KINDA-LÖ-1" in kinda_mets and kinda_case.dnr in kinda_mets
    assert "Ydre kommun" in ydre_mets and "YDRE-LÖ-1" in ydre_mets and ydre_case.dnr in ydre_mets
    assert "Kinda kommun" not in ydre_mets
    handed = {d.target: d.external_ref for d in route.context().ledger.deliveries(submission.id)}
    assert handed["@archive"] == submission.archive_location
    assert handed["@archive:byggr-ydre"].endswith(ydre_package.name)


def test_a_bygglov_without_a_va_connection_goes_to_the_route_s_own_kommun_only(
        route: RouteRun, ydre: RunningSimulator, kinda: RunningSimulator) -> None:
    route.connect("byggr_ydre", local(ydre))
    data = route.drop("bygglov-person.xml")
    route.run()

    assert route.submission(data).state == State.COMPLETED
    assert len(kinda.app.cases) == 1 and ydre.app.cases == {}
    assert _packages(route.home / "archive-ydre") == [] and len(_packages(route.home / "archive-kinda")) == 1


def test_a_failure_on_one_side_retries_that_side_only(route: RouteRun, ydre: RunningSimulator,
                                                      kinda: RunningSimulator) -> None:
    route.connect("byggr_ydre", dead_url("byggr"))
    route.retry(first_delay="0s")  # the next run may try again at once
    data = route.drop("bygga-hus-va.xml")
    route.run()
    submission = route.submission(data)
    assert submission.state == State.TRANSLATED  # not complete while one side is missing
    assert len(kinda.app.cases) == 1
    saves_before = _save_new_arende_calls(kinda)

    route.connect("byggr_ydre", local(ydre))
    route.run()

    assert route.submission(data).state == State.COMPLETED
    assert len(ydre.app.cases) == 1 and len(kinda.app.cases) == 1
    assert _save_new_arende_calls(kinda) == saves_before  # Kinda's side was not called again
    assert route.submission(data).external_ref == next(iter(kinda.app.cases))


def _save_new_arende_calls(sim: RunningSimulator) -> int:
    return sum(1 for request in sim.app.captured_requests if b"SaveNewArende" in request)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("        tenant: ydre\n", "", r"/routes/0/targets/1/archive: a target's own archive is its tenant's"),
    ("tenant: ydre", "tenant: ydr", r"/routes/0/targets/1/tenant: no tenant with id 'ydr'; known: kinda, ydre"),
    ('kommunkod: "0512"', 'kommunkod: "0513"', r"/tenants/ydre/kommunkod: 0513 is tenant kinda's too"),
    ("        tenant: ydre\n", "        tenant: kinda\n",
     r"/routes/0/targets/1/archive: the target works for the route's own tenant"),
], ids=["archive-without-tenant", "unknown-tenant", "one-kommun-two-tenants", "own-tenant-own-archive"])
def test_tenants_and_target_archives_are_checked_before_anything_runs(route: RouteRun, old: str, new: str,
                                                                       expected: str) -> None:
    from brygga.errors import ConfigError

    (route.home / "routes.yaml").write_text(ROUTES.replace(old, new), encoding="utf-8")
    with pytest.raises(ConfigError, match=expected):
        route.context()


def test_one_kommun_s_outage_does_not_hold_the_other_kommun_s_case_back(route: RouteRun, ydre: RunningSimulator,
                                                                       kinda: RunningSimulator) -> None:
    route.connect("byggr_kinda", dead_url("byggr"))
    route.connect("byggr_ydre", local(ydre))
    route.retry(first_delay="0s")
    data = route.drop("bygga-hus-va.xml")
    route.run()
    assert route.submission(data).state == State.TRANSLATED and len(ydre.app.cases) == 1

    route.connect("byggr_kinda", local(kinda))
    route.run()
    assert route.submission(data).state == State.COMPLETED
    assert len(kinda.app.cases) == 1 and _save_new_arende_calls(ydre) == 1


def _documents(package: Path) -> list[str]:
    data = package / "representations" / "rep1" / "data"
    return sorted(p.name for p in data.iterdir() if p.name != "case.json")


def test_another_kommun_s_archive_gets_its_own_first_package_when_a_later_version_first_concerns_it(
        route: RouteRun, ydre: RunningSimulator, kinda: RunningSimulator) -> None:
    """Version 1 asks for no VA connection: Kinda only. Version 2 adds one: Ydre's archive gets a first package of
    its own, under a name of its own, not a revision of a package it never had."""
    route.connect("byggr_ydre", local(ydre))
    plain = (SAMPLES / "bygga-hus-va.xml").read_bytes()
    start = plain.index(b"<vaanslutning>")
    first = plain[:start] + plain[plain.index(b"</onskatanslutningsdatum>") + len(b"</onskatanslutningsdatum>"):]
    route.drop("v1.xml", data=first)
    route.run()
    route.drop("v2.xml", data=plain)
    route.run()

    version2 = route.submission(plain)
    assert version2.state == State.COMPLETED and version2.revision == 2
    kinda_packages, (ydre_package,) = _packages(route.home / "archive-kinda"), _packages(route.home / "archive-ydre")
    assert len(kinda_packages) == 2 and ydre_package.name not in {p.name for p in kinda_packages}
    mets = ydre_package.joinpath("METS.xml").read_text(encoding="utf-8")
    assert "Ydre kommun" in mets and "PREVIOUSREFERENCECODE" not in mets  # refers to no earlier package
    # Kinda's archive holds both versions: the second refers to the first.
    assert sum("PREVIOUSREFERENCECODE" in p.joinpath("METS.xml").read_text(encoding="utf-8")
               for p in kinda_packages) == 1
    assert len(_documents(ydre_package)) == 3  # the whole case: its first package there


def test_documents_none_keeps_the_drawings_out_of_the_other_kommun_s_archive(route: RouteRun,
                                                                             ydre: RunningSimulator) -> None:
    route.connect("byggr_ydre", local(ydre))
    routes = route.home / "routes.yaml"
    routes.write_text(ROUTES.replace("submission_agreement: YDRE-LÖ-1}", "submission_agreement: YDRE-LÖ-1, "
                                                                         "documents: none}"), encoding="utf-8")
    route.drop("bygga-hus-va.xml")
    route.run()
    (kinda_package,), (ydre_package,) = _packages(route.home / "archive-kinda"), _packages(route.home / "archive-ydre")
    assert len(_documents(kinda_package)) == 3 and _documents(ydre_package) == []
    archived = json.loads((ydre_package / "representations" / "rep1" / "data" / "case.json").read_text("utf-8"))
    assert "attachments" not in archived, "not even the files' names"


def test_a_later_version_that_leaves_a_target_s_condition_is_quarantined_naming_that_target(
        route: RouteRun, ydre: RunningSimulator, kinda: RunningSimulator) -> None:
    route.connect("byggr_ydre", local(ydre))
    with_va = (SAMPLES / "bygga-hus-va.xml").read_bytes()
    route.drop("v1.xml", data=with_va)
    route.run()
    start, end = with_va.index(b"<vaanslutning>"), with_va.index(b"</onskatanslutningsdatum>")
    withdrawn = with_va[:start] + with_va[end + len(b"</onskatanslutningsdatum>"):]
    route.drop("v2.xml", data=withdrawn)
    route.run()
    second = route.submission(withdrawn)
    assert second.state == State.QUARANTINED and len(ydre.app.cases) == 1
    (reason,) = route.context().ledger.quarantine_reasons(second.id)
    assert reason.startswith("target byggr-ydre holds this case from an earlier version, but does not take this "
                             "version (when details.bygglov.vaConnection)")
