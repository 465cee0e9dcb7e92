"""A generic JSON case or work-order API as a Brygga ``CaseTarget`` (adapter ``rest``). See README.md."""

from brygga_adapters.rest.config import CONFIG_SPEC
from brygga_adapters.rest.sessions import clear_sessions
from brygga_adapters.rest.target import RestTarget

__all__ = ["CONFIG_SPEC", "RestTarget", "clear_sessions"]
