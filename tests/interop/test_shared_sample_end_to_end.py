"""The real-shaped Open ePlatform sample (../shared/samples) through the whole route, judged by the real
schemas and the official E-ARK validator: a diarienummer comes back, the SIP passes, the status call is made."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from eark_report import assert_only_known_validator_defects

from brygga.archive import validate_erms_schema, validate_mets_schema, verify_package
from brygga.ledger import State
from brygga.pipeline import PipelineContext, run_route
from brygga.settings import REPO_ROOT, Settings
from brygga_simulators import start_simulator
from brygga_simulators.byggr import ByggrSimulator

pytestmark = pytest.mark.interop
SAMPLE = REPO_ROOT.parent / "shared" / "samples" / "open-eplatform" / "bygglov-1001.xml"


def test_the_shared_sample_goes_end_to_end(shared_reference, tmp_path, monkeypatch):
    assert SAMPLE.is_file(), f"{SAMPLE} is missing"
    # ByggR answers in the shapes of its real replies, as a kommun's would.
    with start_simulator(ByggrSimulator(reply_style="real")) as byggr, start_simulator("oep-callback") as callback, \
            start_simulator("property-register") as register:
        monkeypatch.setenv("BRYGGA_HOME", str(tmp_path))
        for conn_id, sim in (("BYGGR_KUMLA", byggr), ("OEP_KUMLA", callback), ("FASTIGHETSREGISTER_KUMLA", register)):
            monkeypatch.setenv(f"BRYGGA_CONN_{conn_id}", f"{sim.url}?allow_http=true")
        inbox = tmp_path / "inbox" / "kumla-bygglov"
        inbox.mkdir(parents=True)
        (inbox / SAMPLE.name).write_bytes(SAMPLE.read_bytes())
        ctx = PipelineContext.for_route("kumla-bygglov", settings=Settings.from_env())
        (sid,) = run_route(ctx)
        submission = ctx.ledger.get(sid)
        assert submission.state == State.COMPLETED, ctx.ledger.quarantine_reasons(sid)
        assert submission.source_reference == "1001"
        assert re.match(r"^BN \d{4}-\d{6}$", submission.external_ref or "")
        assert [c.operation for c in callback.app.calls] == ["setStatus", "addMessage", "confirmDelivery"]
        assert all(c.fields["flowInstanceID"] == 1001 for c in callback.app.calls)
    package = Path(submission.archive_location)
    assert verify_package(package) == []
    assert validate_mets_schema(package, shared_reference / "earkiv") == []
    assert validate_erms_schema(package, shared_reference / "earkiv") == []
    assert_only_known_validator_defects(package)
