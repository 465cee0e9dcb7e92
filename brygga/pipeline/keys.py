"""Stable identities derived from the case, never from the bytes: a re-export of the same form is the same case."""

from __future__ import annotations

import hashlib
from typing import Any


def extern_ref(case: dict[str, Any], tenant: str) -> str:
    """The reference the target keeps for check-before-create, e.g. ``1881:open-eplatform:1001``."""
    return f"{tenant}:{case['source']['system']}:{case['source']['reference']}"


def idempotency_key(case: dict[str, Any], tenant: str, target_id: str, revision: int = 1,
                    content_fingerprint: str | None = None) -> str:
    """One key per version of a submission and target; the ledger holds it under a unique constraint.

    The first version's key depends on the reference only, so every export of it is one delivery; an
    amendment's key adds its revision and content, so each amendment is delivered once.
    """
    key = f"{extern_ref(case, tenant)}|{target_id}"
    if revision > 1:
        key += f"|r{revision}|{content_fingerprint}"
    return hashlib.sha256(key.encode()).hexdigest()
