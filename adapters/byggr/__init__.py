"""ByggR (Sokigo/Tekis) building-permit case system as a Brygga case target, over ArendeExportWS (SOAP).

Payload shape and example: README.md in this folder.
"""

from brygga_adapters.byggr.target import CONFIG_SPEC, ByggrTarget

__all__ = ["CONFIG_SPEC", "ByggrTarget"]
