"""The handelse (and its handlingar) that carries a submission's documents into a ByggR case."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from brygga_adapters.documents import VerifiedDocument


@dataclass(frozen=True)
class HandelseSpec:
    """What the route config decides about a handelse; ``anteckning`` carries Brygga's marker."""

    rubrik: str
    handelsetyp: str | None
    handelseslag: str | None
    anteckning: str


def handelse(spec: HandelseSpec) -> dict[str, Any]:
    return {
        "handelseId": 0,  # required by the schema; ByggR assigns the real id
        "riktning": "In",
        "rubrik": spec.rubrik,
        "startDatum": datetime.now().astimezone(),
        "anteckning": spec.anteckning,
        "handelseslag": spec.handelseslag,
        "handelsetyp": spec.handelsetyp,
        "sekretess": False,
        "makulerad": False,
        "arbetsmaterial": False,
    }


def handlingar(
    documents: list[VerifiedDocument],
    handlingstyp: str,
    status: str,
    content: Callable[[VerifiedDocument], bytes],
) -> dict[str, Any] | None:
    """``Handlingar``: one handling per document, file content included; None when there are none.

    ``content`` gives the value zeep encodes as ``filBuffer``: a streaming placeholder
    (``SoapService.file_value``), so a drawing goes from disk into the request without being held in memory.
    """
    if not documents:
        return None
    today = date.today()
    return {
        "handling": [
            {
                "handlingId": 0,
                "typ": handlingstyp,
                "status": status,
                "handlingDatum": today,
                "anteckning": document.name,
                "makulerad": False,
                "dokument": {
                    "namn": document.name,
                    "fil": {"filBuffer": content(document), "filAndelse": document.extension or None},
                },
            }
            for document in documents
        ]
    }
