"""The real Open ePlatform export in ../shared/reference (a sick-leave report, ISO-8859-1) meets the bundled routes
as an integrator would meet a wrong e-service: it is refused by its identity, with a reason that names it, even when
it happens to carry the answers a bygglov mapping reads. No mapping symptoms, and never a bygglov case."""

from __future__ import annotations

import re

import pytest

from brygga.cli import main
from brygga.mapping import NotAccepted, compile_mapping
from brygga.settings import REPO_ROOT

pytestmark = pytest.mark.interop
BYGGLOV = REPO_ROOT / "mappings" / "open-eplatform" / "bygglov.yaml"
# Two answers the bygglov mapping requires, with bygglov's element names, added to the real export.
BYGGLOV_LOOKALIKES = (b"<atgard><QueryID>1</QueryID><Name>x</Name><Value>Nybyggnad</Value></atgard>"
                      b"<beskrivning><QueryID>2</QueryID><Name>y</Name><Value>z</Value></beskrivning></Values>")
IDENTITY = "Open ePlatform FamilyID 832, FlowID 2411, version 4 (Anmälan om sjukfrånvaro)"


def test_the_real_export_is_refused_by_identity_on_every_route(shared_reference, capsys):
    export = shared_reference / "open-eplatform" / "examples" / "case.xml"
    assert main(["translate", "--route", "kumla-bygglov", str(export)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"no mapping accepts {IDENTITY}; route kumla-bygglov has:")
    assert "required value is missing" not in err


def test_adding_the_fields_a_bygglov_reads_still_makes_no_bygglov_case(shared_reference, tmp_path):
    export = (shared_reference / "open-eplatform" / "examples" / "case.xml").read_bytes()
    assert export.count(b"</Values>") == 1
    lookalike = tmp_path / "sjukfranvaro-with-bygglov-answers.xml"
    lookalike.write_bytes(export.replace(b"</Values>", BYGGLOV_LOOKALIKES))
    with pytest.raises(NotAccepted, match=re.escape(f"does not accept {IDENTITY}; it accepts FamilyID 412")):
        compile_mapping(BYGGLOV).run(lookalike)
