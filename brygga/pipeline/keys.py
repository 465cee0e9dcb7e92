"""Stable identities derived from the case, never from the bytes: a re-export of the same form is the same case."""

from __future__ import annotations

import hashlib
from typing import Any


def extern_ref(case: dict[str, Any], tenant: str) -> str:
    """The reference the target keeps for check-before-create, e.g. ``1881:open-eplatform:1001``."""
    return f"{tenant}:{case['source']['system']}:{case['source']['reference']}"


def idempotency_key(case: dict[str, Any], tenant: str, target_id: str) -> str:
    """One key per submission and target; the ledger holds it under a unique constraint."""
    return hashlib.sha256(f"{extern_ref(case, tenant)}|{target_id}".encode()).hexdigest()
