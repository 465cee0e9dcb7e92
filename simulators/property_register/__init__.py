"""Municipal property register stand-in (REST/JSON): fastighetsbeteckning to FNR and object identity."""

from brygga_simulators.property_register.records import SEEDED_UNITS, RegisterUnit
from brygga_simulators.property_register.service import PropertyRegisterSimulator

__all__ = ["SEEDED_UNITS", "PropertyRegisterSimulator", "RegisterUnit"]
