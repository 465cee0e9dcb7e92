"""A route whose source is sftp-inbox and whose archive is sftp-archive, run in-process like the DAG runs it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sftp_helpers import sftp_uri

from brygga.archive import verify_package
from brygga.ledger import State
from brygga.pipeline import PipelineContext, run_route
from brygga.settings import REPO_ROOT, Settings

ROUTE = "partner-felanmalan"
SAMPLE = REPO_ROOT / "samples" / "open-eplatform" / "felanmalan-gatlykta.xml"
# A routes file of the test's own: the bundled one changes as routes are added.
ROUTES = f"""routes:
  - id: {ROUTE}
    description: Felanmälan dropped by a partner over SFTP, archived into an e-archive's SFTP intake.
    tenant: {{kommunkod: "1881", name: Kumla kommun, organisationsnummer: "212000-1819"}}
    source:
      adapter: sftp-inbox
      connection: partner_sftp
      config: {{path: outgoing, pattern: "*.xml"}}
    mappings: [open-eplatform/felanmalan.yaml]
    archive:
      adapter: sftp-archive
      connection: earkiv_sftp
      config: {{path: inleverans}}
      submission_agreement: "KUMLA-LÖ-2026-01"
"""


def test_a_submission_comes_in_over_sftp_and_its_package_goes_out_over_sftp(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sftp_server, server_root):
    routes_file = tmp_path / "routes.yaml"
    routes_file.write_text(ROUTES, encoding="utf-8")
    home = tmp_path / "home"
    monkeypatch.setenv("BRYGGA_HOME", str(home))
    monkeypatch.setenv("BRYGGA_ROUTES", str(routes_file))
    monkeypatch.setenv("BRYGGA_CONN_PARTNER_SFTP", sftp_uri(sftp_server, "/partner"))
    monkeypatch.setenv("BRYGGA_CONN_EARKIV_SFTP", sftp_uri(sftp_server, "/earkiv"))
    (server_root / "partner" / "outgoing").mkdir(parents=True)
    dropped = server_root / "partner" / "outgoing" / "felanmalan-gatlykta.xml"
    dropped.write_bytes(SAMPLE.read_bytes())

    context = PipelineContext.for_route(ROUTE, settings=Settings.from_env())
    run_route(context)
    submission = context.ledger.by_content(ROUTE, hashlib.sha256(SAMPLE.read_bytes()).hexdigest())
    assert submission is not None
    assert submission.state == State.COMPLETED, context.ledger.quarantine_reasons(submission.id)
    assert [(s.step, s.outcome) for s in context.ledger.steps(submission.id)][:4] == [
        ("intake", "ok"), ("translate", "ok"), ("deliver", "skipped"), ("archive", "ok")]

    assert not dropped.exists()  # taken in, then removed from the partner's folder
    (package,) = (server_root / "earkiv" / "inleverans").iterdir()
    assert submission.archive_location == f"sftp://earkiv_sftp/earkiv/inleverans/{package.name}"
    assert verify_package(package) == []
