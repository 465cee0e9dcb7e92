"""Errors of the mapping engine.

Two kinds, kept apart on purpose:
- ``MappingConfigError``: the mapping file itself is wrong (raised while compiling, before any data is seen);
- ``MappingFailed``: one run met data it cannot map; it carries every ``MappingProblem`` of that run.

No message ever carries a value from the source document: submissions hold personal data, and these
messages end up in logs, quarantine reasons and terminals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from brygga.errors import BryggaError, ConfigError
from brygga.xmlsafe import UnsafeOrMalformedXml


class MappingConfigError(ConfigError):
    """The mapping file is invalid: bad YAML, a schema violation, an unknown converter, a bad path."""

    def __init__(self, file: str, rule: str, message: str) -> None:
        self.file = file
        self.rule = rule
        self.message = message
        super().__init__(f"mapping {file}: {rule}: {message}")


@dataclass(frozen=True, slots=True)
class MappingProblem:
    """One thing a run could not map.

    ``rule`` is the output field path (``parties[0].personnummer``); ``source_path`` is where the value came
    from (an XPath, a JSON path, ``context:tenant.kommunkod``) or ``""`` when no source applies.
    """

    file: str
    rule: str
    source_path: str
    message: str

    def __str__(self) -> str:
        source = f" (source {self.source_path})" if self.source_path else ""
        return f"mapping {self.file}: rule {self.rule}{source}: {self.message}"


class MappingFailed(BryggaError):
    """A run produced problems. All of them are collected, not only the first."""

    def __init__(self, problems: list[MappingProblem]) -> None:
        self.problems = problems
        first = str(problems[0]) if problems else "no problems recorded"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(first + more)


class InvalidSource(BryggaError, ValueError):
    """The input document could not be read at all: malformed or unsafe XML, invalid JSON, wrong type."""


class InvalidXmlSource(InvalidSource, UnsafeOrMalformedXml):
    """Malformed or unsafe XML; also an ``UnsafeOrMalformedXml``, so callers of ``parse_xml`` catch it too."""


class NotAccepted(InvalidSource):
    """The document is an e-service no (or more than one) mapping accepts (``accepts``, brygga.mapping.dispatch).

    An ``InvalidSource``, so every caller that quarantines unreadable input quarantines this too. The message
    names the e-service by its ids, version and name (``EService.describe()``), never an answer from the form.
    ``eservice`` is the ``EService`` that was read; ``routes`` the other routes that accept it, when known.
    """

    def __init__(self, message: str, eservice: Any = None, routes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.eservice = eservice
        self.routes = routes


class ConversionError(ValueError):
    """Raised by a converter; the engine turns it into a ``MappingProblem``. Never put the value in it."""
