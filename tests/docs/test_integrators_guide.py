"""docs/integrators.md, followed literally: every file block is written and every command run, in the guide's order,
in an empty folder, with the installed `brygga` and nothing else. A new e-service with a new case type goes end to
end with files only."""

from __future__ import annotations

import json
import os
import re
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from brygga.settings import REPO_ROOT

pytestmark = pytest.mark.airflow
GUIDE = REPO_ROOT / "docs" / "integrators.md"
# A fenced block: its info string (language, then an optional file=PATH) and its text.
BLOCK = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```\s*$", re.MULTILINE | re.DOTALL)
EXITS = re.compile(r"#\s*exits (\d+)")


def guide_steps(text: str) -> list[tuple[str, str]]:
    """("file", "PATH\\nBODY") for a block with file=PATH, ("sh", LINE) for each command of an sh block."""
    steps = []
    for block in BLOCK.finditer(text):
        info = block["info"].split()
        file = next((word.removeprefix("file=") for word in info if word.startswith("file=")), None)
        if file is not None:
            steps.append(("file", f"{file}\n{block['body']}"))
        elif info[:1] == ["sh"]:
            steps += [("sh", line) for line in block["body"].splitlines() if line.strip()
                      and not line.lstrip().startswith("#")]
    return steps


def as_script(steps: list[tuple[str, str]]) -> str:
    """One bash script: files written with heredocs, each command checked against its expected exit code."""
    lines = ["set -u"]
    for kind, content in steps:
        if kind == "file":
            path, body = content.split("\n", 1)
            lines += [f"mkdir -p {shlex.quote(str(Path(path).parent))}",
                      f"cat > {shlex.quote(path)} <<'BRYGGA_GUIDE_EOF'", body.rstrip("\n"), "BRYGGA_GUIDE_EOF"]
        else:
            expected = int(match[1]) if (match := EXITS.search(content)) else 0
            lines += [f"echo {shlex.quote('$ ' + content)}", content,
                      f"rc=$?; if [ $rc -ne {expected} ]; then echo \"GUIDE STEP FAILED (exit $rc, "
                      f"expected {expected})\" >&2; exit 1; fi"]
    return "\n".join(lines) + "\n"


def test_the_guide_has_the_files_and_commands_it_describes():
    steps = guide_steps(GUIDE.read_text(encoding="utf-8"))
    files = [content.split("\n", 1)[0] for kind, content in steps if kind == "file"]
    commands = [content for kind, content in steps if kind == "sh"]
    mapping = "mappings/open-eplatform/parkeringstillstand"
    assert files == ["samples/parkering-9001.xml", "samples/parkering-9002.xml",
                     "case-types/parkeringstillstand.v1.schema.json", f"{mapping}.yaml", f"{mapping}_test.yaml",
                     "routes.yaml"]
    assert any(c.startswith("brygga run kumla-parkering") and "--simulators" in c for c in commands)
    assert not any("python" in c or c.endswith(".py") for c in commands), "the guide adds no Python"


def test_following_the_guide_takes_a_new_e_service_end_to_end(tmp_path):
    folder = tmp_path / "kumla-config"
    folder.mkdir()
    script = as_script(guide_steps(GUIDE.read_text(encoding="utf-8")))
    # A new user's shell: the installed commands on PATH, no Brygga or Airflow settings of ours.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "BRYGGA"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(["bash", "-c", script], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=900, check=False)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    out = done.stdout
    assert "2 passed, 0 failed, 1 suite(s)" in out
    assert "e-service:  FamilyID 740  ->  mappings/open-eplatform/parkeringstillstand.yaml" in out
    printed = out[out.index("$ brygga translate"):]
    case = json.loads(printed[printed.index("{"):printed.index("\n$ ")])
    assert case["caseType"] == "parkeringstillstand" and case["tenant"]["kommunkod"] == "1881"
    assert case["formAnswers"] == [{"question": "hjalpmedel", "label": "Vilka hjälpmedel använder du?",
                                    "value": "Rollator"}]

    ledger = sqlite3.connect(folder / "var" / "ledger.sqlite")
    states = dict(ledger.execute("SELECT source_name, state FROM submissions"))
    assert sorted(states.values()) == ["completed", "quarantined"]
    (package,) = (folder / "var" / "archive-out").iterdir()
    assert (package / "schemas" / "parkeringstillstand.v1.schema.json").is_file(), "the type travels with the case"
    archived = json.loads((package / "representations" / "rep1" / "data" / "case.json").read_text(encoding="utf-8"))
    assert archived["details"] == {"parkeringstillstand": {"role": "forare", "walkingDistance": 50}}
    assert "rule parties[0].personnummer" in out and "Luhn" in out
    assert "19511224-1235" not in out + done.stderr, "the bad value itself is never shown"
