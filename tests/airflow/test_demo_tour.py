"""`brygga demo` without files: the tour of the bundled routes, each route's real DAG once on simulators."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from brygga.archive import verify_package

if TYPE_CHECKING:  # the shared demo run's fixture (tests/airflow/conftest.py)
    from conftest import DemoRun

pytestmark = pytest.mark.airflow


def test_the_tour_reaches_every_kind_of_system(demo_run: DemoRun) -> None:
    tmp_path = demo_run.var  # the demo's BRYGGA_VAR (the run is shared, tests/airflow/conftest.py)
    runs = {run["route"]: run for run in demo_run.report["runs"]}
    assert list(runs) == ["kumla-bygglov", "kumla-felanmalan", "kumla-varmepump", "kumla-felanmalan-webhook",
                          "cesam-bygga-hus", "ydre-kinda-beslut"]

    def only(route: str) -> dict:
        (result,) = runs[route]["files"]
        assert result["state"] == "delivered", result["reasons"]
        assert runs[route]["airflow"]["run"] == "success"
        return result

    assert re.fullmatch(r"AO-\d{4}-\d{5}", only("kumla-felanmalan")["diarienummer"])  # REST with OAuth2
    assert re.fullmatch(r"MBN-\d{4}-\d{6}", only("kumla-varmepump")["diarienummer"])  # Ecos over SOAP
    assert re.fullmatch(r"AO-\d{4}-\d{5}", only("kumla-felanmalan-webhook")["diarienummer"])  # pushed JSON
    life_event = only("cesam-bygga-hus")  # taken in over SFTP
    assert re.fullmatch(r"BN \d{4}-\d{6}", life_event["diarienummer"])
    assert life_event["cases"]["byggr-kinda"] == life_event["diarienummer"]
    assert re.fullmatch(r"AO-\d{4}-\d{5}", life_event["cases"]["va-ydre"])
    assert life_event["other_archives"]["va-ydre"].startswith("sftp://earkiv_ydre_sftp/inleverans/")
    kinda = Path(life_event["archive_package"])
    assert kinda.parent == tmp_path / "demo" / "archive-out" / "kinda" and verify_package(kinda) == []
    # Ydre's own package went to its e-archive's SFTP intake folder (the simulated server's files).
    (ydre,) = (tmp_path / "demo" / "simulated" / "earkiv_ydre_sftp" / "inleverans").iterdir()
    assert ydre.name != kinda.name and verify_package(ydre) == []  # a package of its own, without the drawings
    assert not [p for p in (ydre / "representations" / "rep1" / "data").iterdir() if p.name != "case.json"]
    assert "Ydre kommun" in (ydre / "METS.xml").read_text(encoding="utf-8")
    states = [r["state"] for r in runs["kumla-bygglov"]["files"]]
    assert states.count("quarantined") == 2 and runs["kumla-bygglov"]["airflow"]["run"] == "failed"

    # The resident follows the case: a handler, then a decision with its document, each told once; the decision
    # also as signed digital mail; a third status run tells nothing again.
    followed = runs["kumla-bygglov"]["then"]
    assert [run["airflow"].split(" ")[0] for run in followed["status_runs"]] == ["success"] * 3
    statuses = [line for line in followed["mina_sidor"] if line.startswith("setStatus")]
    assert statuses == ["setStatus: Under handläggning", "setStatus: Handläggare utsedd", "setStatus: Beslut fattat"]
    assert len(followed["mina_sidor"]) == 6 and len(set(followed["mina_sidor"])) == 6
    assert followed["mina_meddelanden"] == [{"subject": f"Beslut i ditt ärende {followed['diarienummer']}",
                                             "signature_valid": True, "attachments": ["Beslut.pdf"]}]
    assert followed["outbox_backlog"] == 0
    # Kinda's decision, published on the bus, became a work order in Ydre's system through the bus-fed route.
    assert runs["ydre-kinda-beslut"]["airflow"]["run"] == "success"
    [order] = runs["ydre-kinda-beslut"]["then"]["work_orders"]
    assert "Kinda" in order["title"]
