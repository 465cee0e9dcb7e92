"""`brygga validation-api`: it serves the API with uvicorn on the address given (a real server process, stopped
with Ctrl-C as a person would), its log never holds a body, and --write-openapi writes the published document; the
committed docs/validation-api.openapi.json is exactly what the app serves."""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import pytest
import requests

from brygga.catalog.api import DEFAULT_MAX_BODY_BYTES, OPENAPI_PATH, create_app, openapi_document
from brygga.catalog.api_cli import DEFAULT_MAX_BODY_HELP, add_validation_api
from brygga.catalog.api_cli import OPENAPI_PATH as CLI_OPENAPI_PATH
from brygga.catalog.examples import EXAMPLES_DIR
from brygga.settings import REPO_ROOT

# The command as `brygga` registers it, in a process of its own.
COMMAND = """
import argparse, sys
from brygga.catalog.api_cli import add_validation_api
parser = argparse.ArgumentParser(prog="brygga")
add_validation_api(parser.add_subparsers(required=True))
args = parser.parse_args(sys.argv[1:])
sys.exit(args.func(args))
"""
STARTED = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="brygga")
    add_validation_api(parser.add_subparsers(required=True))
    return parser.parse_args(["validation-api", *argv])


def test_the_committed_openapi_document_is_the_apps():
    committed = (REPO_ROOT / OPENAPI_PATH).read_text(encoding="utf-8")
    assert committed == openapi_document(), (f"{OPENAPI_PATH} is out of date: run "
                                             f"`brygga validation-api --write-openapi {OPENAPI_PATH}`")
    document = json.loads(committed)
    assert document["openapi"].startswith("3.") and document["info"]["title"] == "Brygga validation API"
    assert set(document["paths"]) == {"/schemas", "/schemas/{name}", "/schemas/{name}/examples", "/validate"}
    assert document == create_app().openapi()


def test_write_openapi_writes_the_document_and_the_help_agrees_with_the_api(tmp_path: Path,
                                                                             capsys: pytest.CaptureFixture[str]):
    target = tmp_path / "out" / "api.json"
    args = _parse("--write-openapi", str(target))
    assert args.func(args) == 0
    assert target.read_text(encoding="utf-8") == openapi_document() and capsys.readouterr().out.strip() == str(target)
    assert f"{DEFAULT_MAX_BODY_BYTES // (1024 * 1024)} MiB" == DEFAULT_MAX_BODY_HELP
    assert str(OPENAPI_PATH) == CLI_OPENAPI_PATH
    assert _parse().max_body_bytes is None and _parse("--max-body-bytes", "2048").max_body_bytes == 2048


@pytest.mark.parametrize("value", ["0", "-5", "ten"])
def test_a_limit_that_is_not_a_positive_number_is_a_usage_error(value: str, capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exited:
        _parse("--max-body-bytes", value)
    assert exited.value.code == 2 and "--max-body-bytes" in capsys.readouterr().err


def _lines(stream: IO[str], into: queue.Queue[str | None]) -> None:
    for line in stream:
        into.put(line)
    into.put(None)


def test_the_command_serves_the_api_and_logs_no_body(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRYGGA")}
    env["BRYGGA_HOME"] = str(tmp_path / "home")
    server = subprocess.Popen([sys.executable, "-c", COMMAND, "validation-api", "--port", "0", "--max-json-bytes",
                               "4096"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines: queue.Queue[str | None] = queue.Queue()
    assert server.stdout is not None
    threading.Thread(target=_lines, args=(server.stdout, lines), daemon=True).start()
    log: list[str] = []
    try:
        while not (started := STARTED.search("".join(log))):
            line = lines.get(timeout=120)
            assert line is not None, f"the server stopped:\n{''.join(log)}"
            log.append(line)
        url = started[1]
        listed = requests.get(f"{url}/schemas", timeout=30)
        assert listed.status_code == 200 and listed.json()["schemas"][0]["spec"].startswith("case@")
        case = (EXAMPLES_DIR / "bygglov-person.json").read_bytes()
        answer = requests.post(f"{url}/validate", data=case, timeout=30, params={"lang": "sv"},
                               headers={"Content-Type": "application/json"})
        assert answer.status_code == 200 and answer.json()["valid"] is True
        too_big = requests.post(f"{url}/validate", data=case + b" " * 4096, timeout=30,
                                headers={"Content-Type": "application/json"})
        assert too_big.status_code == 413 and "4,096 bytes" in too_big.json()["detail"]
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
    while (line := lines.get(timeout=60)) is not None:
        log.append(line)
    text = "".join(log)
    assert server.returncode == 0, text
    assert '"POST /validate?lang=sv HTTP/1.1" 200' in text and "GET /schemas" in text
    applicant = json.loads(case)["parties"][0]
    for value in (applicant["personnummer"], applicant["givenName"], applicant["familyName"], "nybyggnad"):
        assert value not in text
