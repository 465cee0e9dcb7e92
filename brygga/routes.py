"""Routes: tenant + source + inbound mapping + a content-based router over targets.

The routes file is validated against ``schemas/config/routes.schema.json``, and each adapter's own
config against the adapter's ``config_spec``, before anything runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from brygga.errors import ConfigError
from brygga.plugins import adapter_class, configure
from brygga.resources import resource
from brygga.retry import RetryPolicy, parse_duration

ROUTES_SCHEMA = resource("schemas", "config", "routes.schema.json")


@dataclass(frozen=True)
class Tenant:
    kommunkod: str
    name: str
    organisationsnummer: str


@dataclass(frozen=True)
class AdapterRef:
    adapter: str
    connection: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    retry: RetryPolicy = field(default_factory=RetryPolicy)  # for calls to a remote system


@dataclass(frozen=True)
class TargetSpec(AdapterRef):
    id: str = ""
    mapping: Path = Path()
    case_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class NotifySpec(AdapterRef):
    status: str = "Under handläggning"
    message: str = "Ditt ärende har tagits emot och registrerats med diarienummer {diarienummer}."
    amendment_status: str = "Komplettering mottagen"
    amendment_message: str = "Din komplettering har tagits emot och lagts till ärende {diarienummer}."


@dataclass(frozen=True)
class ArchiveSpec(AdapterRef):
    submission_agreement: str | None = None


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 500 * 1024 * 1024
    max_attachment_bytes: int = 200 * 1024 * 1024


@dataclass(frozen=True)
class Route:
    id: str
    tenant: Tenant
    source: AdapterRef
    mapping: Path
    targets: tuple[TargetSpec, ...]
    archive: ArchiveSpec | None = None
    notify: NotifySpec | None = None
    property_lookup: AdapterRef | None = None
    limits: Limits = field(default_factory=Limits)
    retention: timedelta | None = None  # gallring: personal data is purged this long after completion
    batch_size: int = 500
    schedule: str | None = "*/1 * * * *"
    description: str = ""

    def targets_for(self, case_type: str) -> list[TargetSpec]:
        """Content-based router: the targets that take this case type."""
        return [t for t in self.targets if case_type in t.case_types]

    @property
    def mapping_context(self) -> dict[str, Any]:
        tenant = {"kommunkod": self.tenant.kommunkod, "name": self.tenant.name}
        return {"tenant": tenant, "route": self.id}


@cache
def _routes_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(ROUTES_SCHEMA.read_text(encoding="utf-8")))


def _json_path(parts: Any) -> str:
    return "".join(f"/{p}" for p in parts)


def _check_adapter(file: Path, where: str, ref: dict[str, Any]) -> None:
    try:
        cls = adapter_class(ref["adapter"])
    except ConfigError as exc:
        raise ConfigError(f"{file}: {where}/adapter: {exc}") from None
    spec = getattr(cls, "config_spec", None)
    if spec is None:
        raise ConfigError(f"{file}: {where}: adapter {ref['adapter']!r} declares no config_spec")
    configure(ref["adapter"], spec, ref.get("config", {}), where=f"{file}: {where}/config")


def _resolve_mapping(file: Path, where: str, mappings_dir: Path, relative: str) -> Path:
    path = (mappings_dir / relative).resolve()
    if not path.is_relative_to(mappings_dir.resolve()):
        raise ConfigError(f"{file}: {where}: mapping path must stay inside {mappings_dir}")
    if not path.is_file():
        raise ConfigError(f"{file}: {where}: mapping file {relative!r} not found under {mappings_dir}")
    return path


# Keys of earlier versions, with what replaced them.
_REPLACED_KEYS = {"max_delivery_attempts": "retry.budget (a time, e.g. 24h; docs/reliability.md, 'Retry by time')"}


def _schema_problem(file: Path, error: jsonschema.ValidationError) -> str:
    where = _json_path(error.absolute_path) or "/"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        replaced = [f"{key} was replaced by {_REPLACED_KEYS[key]}" for key in error.instance if key in _REPLACED_KEYS]
        if replaced:
            return f"{file}: {where}: {'; '.join(replaced)} (rule: additionalProperties)"
    return f"{file}: {where}: {error.message} (rule: {error.validator})"


def parse_routes(document: Any, *, file: Path, mappings_dir: Path) -> list[Route]:
    errors = sorted(_routes_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [_schema_problem(file, e) for e in errors]
        raise ConfigError("invalid routes file:\n  " + "\n  ".join(lines))
    routes: list[Route] = []
    seen: set[str] = set()
    for i, raw in enumerate(document["routes"]):
        where = f"/routes/{i}"
        if raw["id"] in seen:
            raise ConfigError(f"{file}: {where}/id: route id {raw['id']!r} is used twice")
        seen.add(raw["id"])
        _check_adapter(file, f"{where}/source", raw["source"])
        retry = RetryPolicy().merged(raw.get("retry"))
        targets = []
        for j, t in enumerate(raw["targets"]):
            _check_adapter(file, f"{where}/targets/{j}", t)
            targets.append(TargetSpec(adapter=t["adapter"], connection=t.get("connection"),
                                      config=t.get("config", {}), retry=retry.merged(t.get("retry")), id=t["id"],
                                      mapping=_resolve_mapping(file, f"{where}/targets/{j}/mapping",
                                                               mappings_dir, t["mapping"]),
                                      case_types=tuple(t["case_types"])))
        archive = notify = property_lookup = None
        if "archive" in raw:
            a = raw["archive"]
            _check_adapter(file, f"{where}/archive", a)
            archive = ArchiveSpec(a["adapter"], a.get("connection"), a.get("config", {}),
                                  retry=retry.merged(a.get("retry")),
                                  submission_agreement=a.get("submission_agreement"))
        if "notify" in raw:
            n = raw["notify"]
            _check_adapter(file, f"{where}/notify", n)
            texts = ("status", "message", "amendment_status", "amendment_message")
            notify = NotifySpec(adapter=n["adapter"], connection=n.get("connection"), config=n.get("config", {}),
                                retry=retry.merged(n.get("retry")), **{k: n[k] for k in texts if k in n})
        if "property_lookup" in raw:
            lookup = raw["property_lookup"]
            _check_adapter(file, f"{where}/property_lookup", lookup)
            property_lookup = AdapterRef(lookup["adapter"], lookup.get("connection"), lookup.get("config", {}),
                                         retry=retry.merged(lookup.get("retry")))
        routes.append(Route(
            id=raw["id"], tenant=Tenant(**raw["tenant"]), description=raw.get("description", ""),
            source=AdapterRef(raw["source"]["adapter"], raw["source"].get("connection"),
                              raw["source"].get("config", {})),
            mapping=_resolve_mapping(file, f"{where}/mapping", mappings_dir, raw["mapping"]),
            targets=tuple(targets), archive=archive, notify=notify, property_lookup=property_lookup,
            limits=Limits(**raw.get("limits", {})),
            retention=parse_duration(raw["retention"]["keep_for"]) if "retention" in raw else None,
            batch_size=raw.get("batch_size", 500),
            schedule=raw.get("schedule", "*/1 * * * *"),
        ))
    return routes


def load_routes(path: Path, mappings_dir: Path) -> list[Route]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"routes file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_routes(document, file=path, mappings_dir=mappings_dir)
