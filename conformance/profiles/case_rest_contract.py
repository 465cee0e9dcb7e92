"""The case-rest contract: the work-order API's OpenAPI 3.1 document, and whether a reply is one it allows.

The document is the one the work-order simulator serves, shipped beside it as ``brygga_simulators/workorder/
openapi.json`` and read here as data (never the simulator's code). A reply is checked for a status the operation
documents, a Content-Type the documented response names, and a body its schema accepts (JSON Schema 2020-12,
formats included). Findings name the operation, the JSON path and the rule, never a value: a reply may echo what a
resident wrote.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema_rs

from brygga.canonical.validation import compile_case_schema, validate_against
from brygga_conformance.contracts import read_contract

CONTRACT_FILE = ("workorder", "openapi.json")
PROBLEM_JSON = "application/problem+json"
MAX_FINDINGS_PER_REPLY = 8


@dataclass(frozen=True)
class Exchange:
    """One reply the endpoint gave, with what it answered."""

    method: str
    path: str  # the request's path below the endpoint's own, e.g. /orders/AO-2026-00001 (no query)
    status: int
    media_type: str  # the answer's Content-Type without parameters, lower case; "" when there is none
    body: bytes
    headers: Mapping[str, str]

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not."""
        return json.loads(self.body)


@dataclass(frozen=True)
class Operation:
    template: str  # /orders/{orderNumber}
    method: str
    spec: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.method} {self.template} ({self.spec.get('operationId', '?')})"


class Contract:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.version = str(document.get("info", {}).get("version", "?"))
        # Literal paths first, so /orders is never read as /{something}.
        self._paths = sorted(((template, _template_regex(template), item)
                              for template, item in document.get("paths", {}).items()),
                             key=lambda entry: entry[0].count("{"))
        self._validators: dict[str, jsonschema_rs.Validator] = {}

    @classmethod
    def bundled(cls) -> Contract:
        return _bundled()

    def schema(self, name: str) -> dict[str, Any]:
        return self.document["components"]["schemas"][name]

    def operation(self, method: str, path: str) -> Operation | None:
        for template, regex, item in self._paths:
            if regex.fullmatch(path) and method.lower() in item:
                return Operation(template, method.upper(), item[method.lower()])
        return None

    def reply_findings(self, exchanges: Iterable[Exchange]) -> list[str]:
        """Every way these replies differ from the document, each once."""
        found: dict[str, None] = {}
        for exchange in exchanges:
            found.update(dict.fromkeys(self.reply_problems(exchange)))
        return list(found)

    def reply_problems(self, exchange: Exchange) -> list[str]:
        operation = self.operation(exchange.method, exchange.path)
        if operation is None:
            return [f"{exchange.method} {exchange.path} -> {exchange.status}: the contract has no such operation"]
        where = f"{operation.label} -> {exchange.status}"
        responses = operation.spec.get("responses", {})
        key = str(exchange.status) if str(exchange.status) in responses else "default"
        if key not in responses:
            documented = ", ".join(sorted(responses))
            return [f"{where}: status {exchange.status} is not documented for this operation (documented: "
                    f"{documented})"]
        content = responses[key].get("content") or {}
        if not content:
            return []
        if exchange.media_type not in content:
            return [f"{where}: Content-Type {exchange.media_type or '(none)'} is not documented for this answer "
                    f"(documented: {', '.join(content)})"]
        schema = content[exchange.media_type].get("schema")
        if schema is None:
            return []
        try:
            body = exchange.json()
        except ValueError:
            return [f"{where}: the body is not JSON (documented: {exchange.media_type})"]
        pointer = f"{key}/{exchange.media_type}"
        problems = self.body_problems(schema, body, f"{operation.template} {operation.method} {pointer}")
        shown = [f"{where}: body {p.path or '/'}: {p.message.rstrip('.')} (rule: {p.rule})"
                 for p in problems[:MAX_FINDINGS_PER_REPLY]]
        if len(problems) > MAX_FINDINGS_PER_REPLY:
            shown.append(f"{where}: and {len(problems) - MAX_FINDINGS_PER_REPLY} more problems in the body")
        return shown

    def body_problems(self, schema: dict[str, Any], body: Any, cache_key: str) -> list[Any]:
        """``body`` against one of the document's schemas (its $refs resolved in the document): CaseProblems,
        whose messages come from the schema, never from the body."""
        validator = self._validators.get(cache_key)
        if validator is None:
            validator = compile_case_schema({**schema, "components": self.document.get("components", {})})
            self._validators[cache_key] = validator
        return validate_against(body, validator)

    def problem_findings(self, body: Any) -> list[str]:
        """How a problem body differs from the contract's Problem (RFC 9457) schema."""
        problems = self.body_problems({"$ref": "#/components/schemas/Problem"}, body, "Problem")
        return [f"{p.path or '/'}: {p.message.rstrip('.')} (rule: {p.rule})" for p in problems]


@cache
def _bundled() -> Contract:
    return Contract(json.loads(read_contract(*CONTRACT_FILE)))


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^{}/]+\})", template)
    return re.compile("".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts))
