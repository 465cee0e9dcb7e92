"""A municipal property register's REST search, as a kommun's GIS or property system would serve it.

``GET {root}{resource}?beteckning=KUMLA%20STENEN%201:23`` answers a JSON list of units whose designation starts
with the given one (case and spacing ignored), optionally filtered by ``kommunkod`` and ``status``. Unknown units
give an empty list, or 404 with ``not_found="404"``. A missing or empty search term, or an unknown parameter,
gives 400. Auth, outages, maintenance pages and delays come from ``RestSimulator``.

Settings (also ``--option key=value`` on the command line): ``path`` (service root, default
``/api/fastighetsregister/v1``), ``resource`` (default ``/fastigheter``), ``query_parameter`` (default
``beteckning``), ``not_found`` (``empty`` or ``404``), ``basic_auth`` (``user:password``), ``bearer_token``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from werkzeug.wrappers import Request, Response

from brygga_simulators.property_register.openapi import openapi_document
from brygga_simulators.property_register.records import SEEDED_UNITS, RegisterUnit, normalise
from brygga_simulators.rest_server import RestSimulator, json_response, problem

FILTERS = ("kommunkod", "status")


class PropertyRegisterSimulator(RestSimulator):
    name: ClassVar[str] = "property-register"

    def __init__(
        self,
        *,
        path: str = "/api/fastighetsregister/v1",
        resource: str = "/fastigheter",
        query_parameter: str = "beteckning",
        not_found: str = "empty",
        basic_auth: str | None = None,
        bearer_token: str | None = None,
        units: Iterable[RegisterUnit] = SEEDED_UNITS,
    ) -> None:
        super().__init__(path, basic_auth=basic_auth, bearer_token=bearer_token)
        if not resource.startswith("/"):
            raise ValueError("resource must start with '/'")
        if not_found not in ("empty", "404"):
            raise ValueError("not_found must be 'empty' or '404'")
        self.resource = resource.rstrip("/")
        self.query_parameter = query_parameter
        self.not_found = not_found
        self.units: list[RegisterUnit] = list(units)

    def handle(self, request: Request) -> Response:
        relative = request.path.removeprefix(self.path) if self.path != "/" else request.path
        if relative == "/openapi.json" and request.method == "GET":
            return json_response(
                openapi_document(self.path, self.resource, self.query_parameter, self.not_found)
            )
        if relative.rstrip("/") != self.resource:
            return problem(404, "Not Found")
        if request.method != "GET":
            response = problem(405, "Method Not Allowed")
            response.headers["Allow"] = "GET"
            return response
        return self._search(request)

    def _search(self, request: Request) -> Response:
        unknown = sorted(set(request.args) - {self.query_parameter, *FILTERS})
        if unknown:
            return problem(400, "Bad Request", f"unknown query parameter(s): {', '.join(unknown)}")
        term = normalise(request.args.get(self.query_parameter, ""))
        if not term:
            return problem(400, "Bad Request", f"query parameter {self.query_parameter} is required")
        with self.lock:
            units = list(self.units)
        found = [
            unit.to_json()
            for unit in units
            if normalise(unit.beteckning).startswith(term)
            and all(request.args.get(key) in (None, getattr(unit, key)) for key in FILTERS)
        ]
        if not found and self.not_found == "404":
            return problem(404, "Not Found", "no unit matches")
        return json_response(found)

    def inspect(self, what: str) -> Any:
        if what == "units":
            with self.lock:
                return [unit.to_json() for unit in self.units]
        return super().inspect(what)
