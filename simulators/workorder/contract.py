"""The work-order API's OpenAPI document as a file, ``openapi.json`` beside this module: the contract of Brygga's REST
case API for whoever has no running simulator. The conformance kit's ``case-rest`` profile checks a vendor's replies
against it (read as package data). After changing the API, write it again:

    .venv/bin/python -m brygga_simulators.workorder.contract

tests/conformance/test_case_rest.py checks that the file is what the simulator serves.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

from brygga_simulators.workorder.api import build_app
from brygga_simulators.workorder.service import DEFAULT_MAX_UPLOAD_BYTES
from brygga_simulators.workorder.store import WorkOrderStore

ROOT = "/workorder/v1"
FILE_NAME = "openapi.json"


def document() -> dict[str, Any]:
    """The document the simulator serves with its default settings."""
    return build_app(WorkOrderStore({}, 3600), ROOT, DEFAULT_MAX_UPLOAD_BYTES).openapi()


def shipped() -> dict[str, Any]:
    return json.loads(files("brygga_simulators.workorder").joinpath(FILE_NAME).read_text(encoding="utf-8"))


def main() -> None:
    path = Path(__file__).with_name(FILE_NAME)
    path.write_text(json.dumps(document(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(path)


if __name__ == "__main__":
    main()
