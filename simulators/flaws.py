"""Flaw names for a simulator's non-conforming variants (``flaws``), as Python or a shell gives them.

Each simulator that has flaws lists them in its own flaws.py (name -> what the bug is); the conformance kit's tests
switch them on by name: ``start_simulator("byggr", flaws=["omits-dnr"])`` or, from a shell,
``python -m brygga_simulators byggr --option flaws=omits-dnr,truncates-documents``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping


def flaw_names(value: Collection[str] | str | None, known: Mapping[str, str], simulator: str) -> frozenset[str]:
    """The flaws asked for: a collection of names, or one comma-separated text. An unknown name is a ValueError that
    lists the known ones."""
    names = value.split(",") if isinstance(value, str) else [str(name) for name in value or ()]
    chosen = frozenset(name.strip() for name in names if name.strip())
    unknown = sorted(chosen - known.keys())
    if unknown:
        listed = ", ".join(repr(name) for name in unknown)
        raise ValueError(f"unknown {simulator} flaw{'s' if len(unknown) > 1 else ''} {listed}; known: "
                         f"{', '.join(known)}")
    return chosen
