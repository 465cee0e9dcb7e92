"""`brygga validation-api`: serve the validation API (brygga.catalog.api) on its own, with uvicorn, or write its
OpenAPI document. In Airflow it needs no command: Brygga's plugin serves it at /brygga/validation."""

from __future__ import annotations

import argparse
from pathlib import Path

from brygga.cli_parsers import add_command

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8090
# Not imported from brygga.catalog.api: building `brygga`'s parser must not load FastAPI (a test checks they agree).
DEFAULT_MAX_BODY_HELP = "10 MiB"
OPENAPI_PATH = "docs/validation-api.openapi.json"


def cmd_validation_api(args: argparse.Namespace) -> int:
    from brygga.catalog.api import create_app, write_openapi

    if args.write_openapi is not None:
        print(write_openapi(args.write_openapi))
        return 0
    import uvicorn

    limits = {name: value for name, value in (("max_body_bytes", args.max_body_bytes),
                                              ("max_json_bytes", args.max_json_bytes)) if value is not None}
    app = create_app(**limits)
    # Uvicorn's access log holds the method, path and query (schema, lang): never a body.
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", lifespan="off")
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number of bytes") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_validation_api(sub: argparse._SubParsersAction) -> None:
    parser = add_command(
        sub, "validation-api", func=cmd_validation_api,
        help="serve the validation API: list and fetch the schemas, validate payloads over HTTP",
        description="A vendor's way to Brygga's schemas over HTTP: GET /schemas, GET /schemas/NAME, GET "
                    "/schemas/NAME/examples, POST /validate (canonical JSON or e-service XML), described by "
                    "/openapi.json. No authentication: nothing sent is logged or kept. Stop it with Ctrl-C. "
                    "In Airflow, Brygga's plugin serves the same API at /brygga/validation.",
        examples=["brygga validation-api", "brygga validation-api --host 0.0.0.0 --port 8090",
                  "curl -s -H 'Content-Type: application/json' --data-binary @case.json "
                  "'http://127.0.0.1:8090/validate?schema=bygglov&lang=sv'",
                  f"brygga validation-api --write-openapi {OPENAPI_PATH}"])
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"the address to listen on (default {DEFAULT_HOST}; 0.0.0.0 for every interface)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"the port (default {DEFAULT_PORT})")
    parser.add_argument("--max-body-bytes", type=_positive, metavar="N",
                        help=f"the largest XML body POST /validate reads; larger ones get 413 (default "
                             f"{DEFAULT_MAX_BODY_HELP})")
    parser.add_argument("--max-json-bytes", type=_positive, metavar="N",
                        help="the largest JSON body POST /validate reads; larger ones get 413 (default 256 KiB: a "
                             "canonical case is a few KB)")
    parser.add_argument("--write-openapi", type=Path, metavar="FILE",
                        help="write the API's OpenAPI document to FILE and exit (the published copy is "
                             f"{OPENAPI_PATH})")
