"""What Ecos would refuse in a case and its payload, found before anything is sent (no I/O).

Messages name fields and rules, never values: the payload holds personal data.
"""

from __future__ import annotations

from typing import Any

from brygga_adapters.ecos.payload import problems as payload_problems


def problems(config: dict[str, Any], case: dict[str, Any], payload: Any) -> list[str]:
    found = payload_problems(payload)
    if isinstance(payload, dict):
        if not config.get("process_type") and not payload.get("processType"):
            found.append("processType: required (or config 'process_type'): RegisterDocument needs ProcessTypeId")
        roles = config.get("party_roles") or {}
        for position, party in enumerate(payload.get("parties") or []):
            for role in (party.get("roles") or []) if isinstance(party, dict) else []:
                if isinstance(role, str) and role not in roles:
                    found.append(f"parties[{position}].roles: role {role!r} has no GUID in config 'party_roles'")
    attachments = case.get("attachments") if isinstance(case, dict) else None
    if not attachments:
        found.append("attachments: RegisterDocument needs at least one document; the case has none")
    return found
