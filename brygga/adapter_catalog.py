"""What adapters are installed and what each needs: ``brygga adapters list``.

Read from the ``brygga.adapters`` entry points and each class's declarations (``config_spec``,
``connection_fields``), never from an instance: listing constructs nothing and resolves no connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from brygga.plugins import installed_entry_points

# The role an adapter plays, by the method of the contract it implements (brygga/plugins.py).
KINDS = (
    ("poll", "source"),
    ("deliver", "case target"),
    ("deliver_package", "archive target"),
    ("notify", "status notifier"),
    ("lookup", "property register"),
    ("send", "digital mailbox"),
    ("changes", "status feed"),
)


@dataclass(frozen=True)
class ConfigField:
    name: str
    required: bool
    default: Any = None
    description: str = ""
    secret: bool = False


@dataclass(frozen=True)
class AdapterInfo:
    name: str
    target: str  # the entry point's "module:Class"
    kinds: tuple[str, ...] = ()
    title: str = ""
    config: tuple[ConfigField, ...] = ()
    connection: dict[str, str] = field(default_factory=dict)  # field -> what it holds
    error: str | None = None  # could not be imported

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "class": self.target, "kinds": list(self.kinds), "title": self.title,
            "config": [vars(f) for f in self.config], "connection": self.connection, "error": self.error,
        }


def _config_fields(spec: dict[str, Any]) -> tuple[ConfigField, ...]:
    required = set(spec.get("required", ()))
    return tuple(ConfigField(name, name in required, prop.get("default"), prop.get("description", ""),
                             bool(prop.get("x-secret")))
                 for name, prop in spec.get("properties", {}).items())


def describe(name: str, target: str, cls: type) -> AdapterInfo:
    spec = getattr(cls, "config_spec", {}) or {}
    return AdapterInfo(
        name=name, target=target, kinds=tuple(kind for method, kind in KINDS if callable(getattr(cls, method, None))),
        title=spec.get("title", ""), config=_config_fields(spec),
        connection=dict(getattr(cls, "connection_fields", {}) or {}),
    )


def installed() -> list[AdapterInfo]:
    found = []
    for ep in sorted(installed_entry_points().values(), key=lambda e: e.name):
        try:
            found.append(describe(ep.name, ep.value, ep.load()))
        except Exception as exc:  # a broken third-party adapter is listed, not fatal for the listing
            found.append(AdapterInfo(name=ep.name, target=ep.value, error=f"{type(exc).__name__}: {exc}"))
    return found


def render(adapters: list[AdapterInfo]) -> str:
    lines = []
    for info in adapters:
        lines.append(f"{info.name}  ({info.target})")
        if info.error:
            lines.append(f"  cannot be imported: {info.error}")
            continue
        lines.append(f"  is a:        {', '.join(info.kinds) or 'unknown (no method of the adapter contract)'}"
                     + (f": {info.title}" if info.title else ""))
        for f in info.config:
            needs = "required" if f.required else f"default {f.default!r}" if f.default is not None else "optional"
            needs += ", secret: refused in route files" if f.secret else ""
            lines.append(f"  config       {f.name} ({needs}){': ' + f.description if f.description else ''}")
        if info.connection:
            for key, what in info.connection.items():
                lines.append(f"  connection   {key}: {what}")
        else:
            lines.append("  connection   none")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
