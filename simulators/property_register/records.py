"""The seeded register: a few Kumla and Sundsvall units, invented but shaped like real ones.

``KUMLA STENEN 1:23`` is the unit of Brygga's samples (FNR 22044332). ``KUMLA STENEN 1:2`` exists so a prefix
search for it also returns 1:23, as real registers' "starts with" searches do. ``SUNDSVALL NORRMALM 1:1`` is
there twice, once current and once deregistered (a designation can be reused after avregistrering), so an
unfiltered search is ambiguous until the caller filters on ``status``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CURRENT = "gällande"
DEREGISTERED = "avregistrerad"


@dataclass(frozen=True)
class RegisterUnit:
    kommun: str
    trakt: str
    blockenhet: str  # "1:23", "S:3", or "12" in the block-less kvarter form
    fnr: int
    objektidentitet: str | None  # Lantmäteriet's UUID; some municipal registers lack it for older rows
    kommunkod: str
    status: str = CURRENT

    @property
    def beteckning(self) -> str:
        return f"{self.kommun} {self.trakt} {self.blockenhet}"

    def to_json(self) -> dict[str, Any]:
        return {
            "beteckning": self.beteckning,
            "fnr": self.fnr,
            "objektidentitet": self.objektidentitet,
            "kommunkod": self.kommunkod,
            "kommun": self.kommun,
            "trakt": self.trakt,
            "blockenhet": self.blockenhet,
            "status": self.status,
        }


SEEDED_UNITS: tuple[RegisterUnit, ...] = (
    RegisterUnit("KUMLA", "STENEN", "1:23", 22044332, "909a6a63-5f3b-90ec-e040-ed8f66444c3f", "1881"),
    RegisterUnit("KUMLA", "STENEN", "1:2", 22044301, "4c0f7a52-9d3e-4b8a-a3f1-6e2d5b7c8a10", "1881"),
    RegisterUnit("KUMLA", "KÅTORP", "5:8", 22051187, "e2b1c9d4-7f6a-4e3b-9c8d-1a2b3c4d5e6f", "1881"),
    # The properties of the bundled Open ePlatform samples (samples/open-eplatform/), so the demo finds them.
    RegisterUnit("KUMLA", "KVARNEN", "4:12", 22047412, "5f0e4b7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b", "1881"),
    RegisterUnit("KUMLA", "INDUSTRIN", "1:45", 22040145, "0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9", "1881"),
    RegisterUnit("KUMLA", "BLACKSTA", "1:45", 22041045, "8e7d6c5b-4a39-4821-b0c9-d8e7f6a5b4c3", "1881"),
    RegisterUnit("SUNDSVALL", "NORRMALM", "1:1", 20110011, "5d6e7f80-91a2-4b3c-8d4e-5f6a7b8c9d0e", "2281"),
    RegisterUnit(
        "SUNDSVALL", "NORRMALM", "1:1", 20110010, "0a1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d", "2281", DEREGISTERED
    ),
    RegisterUnit("SUNDSVALL", "BALDER", "12", 20120412, "7e8f9a0b-1c2d-4e3f-a4b5-c6d7e8f9a0b1", "2281"),
    RegisterUnit("SUNDSVALL", "SKÖNSMON", "S:3", 20133003, None, "2281"),
)


def normalise(designation: str) -> str:
    """Upper case, single spaces: how registers compare designations."""
    return " ".join(designation.split()).upper()
