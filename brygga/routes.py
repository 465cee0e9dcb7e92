"""Routes: tenant + source + inbound mappings (dispatch by e-service) + a content-based router over targets.

The routes file is validated against ``schemas/config/routes.schema.json``, and each adapter's own
config against the adapter's ``config_spec``, before anything runs.
"""

from __future__ import annotations

import json
import string
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
# What every inbound mapping must declare as its output_schema, so that no case skips validation.
INBOUND_OUTPUT_SCHEMA = "canonical/case.v1"
# Deliveries to one target at once, unless the target says otherwise (the routes schema allows 1..32).
DEFAULT_CONCURRENCY = 4


@dataclass(frozen=True)
class Tenant:
    kommunkod: str
    name: str
    organisationsnummer: str
    values: dict[str, Any] = field(default_factory=dict)  # for shared mappings: context tenant.<key>

    @property
    def context(self) -> dict[str, Any]:
        """What a mapping reads as ``context: tenant.<key>``."""
        return {**self.values, "kommunkod": self.kommunkod, "name": self.name,
                "organisationsnummer": self.organisationsnummer}


@dataclass(frozen=True)
class AdapterRef:
    adapter: str
    connection: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    retry: RetryPolicy = field(default_factory=RetryPolicy)  # for calls to a remote system


@dataclass(frozen=True)
class ArchiveSpec(AdapterRef):
    submission_agreement: str | None = None
    with_documents: bool = True  # documents: none keeps another kommun's packages to the case alone


@dataclass(frozen=True)
class TargetSpec(AdapterRef):
    id: str = ""
    # Case type -> the outbound mapping that decides how this target registers that type.
    mappings: dict[str, Path] = field(default_factory=dict)
    tenant: Tenant | None = None  # another kommun's system in a shared service; None: the route's tenant
    archive: ArchiveSpec | None = None  # that tenant's own e-archive
    when: str | None = None  # a dotted canonical path that must have a value for the target to take the case
    concurrency: int = DEFAULT_CONCURRENCY  # deliveries to this target at once (brygga.pipeline.deliver)

    def takes(self, case: dict[str, Any]) -> bool:
        """Content-based router: this target's case types, and its ``when`` condition on the case."""
        if case.get("caseType") not in self.mappings:
            return False
        if self.when is None:
            return True
        value: Any = case
        for key in self.when.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        return value not in (None, "", [], {})

    @property
    def case_types(self) -> tuple[str, ...]:
        return tuple(self.mappings)

    def mapping_for(self, case_type: str) -> Path:
        return self.mappings[case_type]


TEXT_KEYS = ("status", "message", "amendment_status", "amendment_message")


@dataclass(frozen=True)
class NotifySpec(AdapterRef):
    status: str = "Under handläggning"
    message: str = "Ditt ärende har tagits emot och registrerats med diarienummer {diarienummer}."
    amendment_status: str = "Komplettering mottagen"
    amendment_message: str = "Din komplettering har tagits emot och lagts till ärende {diarienummer}."
    # Case type -> its own full set of texts, where they differ from the ones above (notify.case_types, or a case
    # type without a case system, which has no diarienummer to tell).
    by_case_type: dict[str, dict[str, str]] = field(default_factory=dict)

    def texts(self, case_type: str | None) -> dict[str, str]:
        own = self.by_case_type.get(case_type or "")
        return own if own is not None else {key: getattr(self, key) for key in TEXT_KEYS}


# A submission without a case system has no diarienummer to tell the resident about.
NOTIFY_TEXTS_WITHOUT_TARGET = {
    "message": "Ditt ärende har tagits emot.",
    "amendment_message": "Din komplettering har tagits emot.",
}
DIARIENUMMER = "{diarienummer}"


def _check_placeholders(file: Path, where: str, texts: dict[str, str], has_case_system: bool) -> None:
    allowed = {"diarienummer"} if has_case_system else set()
    for key, text in texts.items():
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        except ValueError as exc:
            raise ConfigError(f"{file}: {where}/{key}: {exc} (write a literal brace as {{{{ or }}}})") from None
        unknown = fields - allowed
        if unknown:
            can = "{diarienummer} is the only placeholder" if has_case_system else \
                "without a case system there is no diarienummer, so no placeholder"
            raise ConfigError(f"{file}: {where}/{key}: unknown placeholder {{{sorted(unknown)[0]}}}: {can}")


def _notify_texts(file: Path, where: str, raw: dict[str, Any], targeted: set[str],
                  without_case_system: set[str]) -> dict[str, Any]:
    """The route's texts and, per case type where they differ, the case type's own (NotifySpec fields)."""
    given = {k: raw[k] for k in TEXT_KEYS if k in raw}
    defaults = {k: getattr(NotifySpec, k) for k in TEXT_KEYS}
    route_level = {**defaults, **({**NOTIFY_TEXTS_WITHOUT_TARGET, **given} if not targeted else given)}
    _check_placeholders(file, where, route_level, has_case_system=bool(targeted))
    unrouted = sorted(set(raw.get("case_types", {})) - targeted - without_case_system) if targeted else []
    if unrouted:
        raise ConfigError(f"{file}: {where}/case_types/{unrouted[0]}: this route has no target for that case type and "
                          "does not list it under without_case_system")
    by_case_type = {}
    for case_type in sorted(without_case_system | set(raw.get("case_types", {}))):
        own = dict(route_level)
        given_here = raw.get("case_types", {}).get(case_type, {})
        if case_type in without_case_system:  # never a placeholder it cannot fill
            own.update({k: v for k, v in NOTIFY_TEXTS_WITHOUT_TARGET.items() if DIARIENUMMER in own[k]})
            inherited = [k for k in TEXT_KEYS if DIARIENUMMER in own[k] and k not in given_here]
            if inherited:
                raise ConfigError(f"{file}: {where}/{inherited[0]}: has {DIARIENUMMER}, which {case_type} (without a "
                                  f"case system) would inherit; give {where}/case_types/{case_type}/{inherited[0]}")
        own.update(given_here)
        _check_placeholders(file, f"{where}/case_types/{case_type}", own,
                            has_case_system=case_type in targeted)
        by_case_type[case_type] = own
    return {**route_level, "by_case_type": by_case_type}


@dataclass(frozen=True)
class DigitalMailSpec(AdapterRef):
    """Status events of these kinds also go to the resident's digital mailbox (Mina meddelanden)."""

    kinds: tuple[str, ...] = ("decision_made",)
    subject: str = "Beslut i ditt ärende {diarienummer}"


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 500 * 1024 * 1024
    max_attachment_bytes: int = 200 * 1024 * 1024


@dataclass(frozen=True)
class Route:
    id: str
    tenant: Tenant
    source: AdapterRef
    mappings: tuple[Path, ...]  # inbound, one per e-service the source carries; dispatch picks one per submission
    targets: tuple[TargetSpec, ...] = ()  # none: the route archives and notifies only
    # Case types a route with targets takes in with no case system yet: archived and answered only.
    without_case_system: tuple[str, ...] = ()
    archive: ArchiveSpec | None = None
    notify: NotifySpec | None = None
    property_lookup: AdapterRef | None = None
    digital_mail: DigitalMailSpec | None = None
    limits: Limits = field(default_factory=Limits)
    retention: timedelta | None = None  # gallring: personal data is purged this long after completion
    batch_size: int = 500
    schedule: str | None = "*/1 * * * *"
    description: str = ""

    def targets_for(self, case: dict[str, Any]) -> list[TargetSpec]:
        """Content-based router: the targets that take this case (by its type and their ``when``)."""
        return [t for t in self.targets if t.takes(case)]

    def has_case_system(self, case_type: str) -> bool:
        """False when the case type goes to the archive and the resident only (by design, not by mistake)."""
        return bool(self.targets) and case_type not in self.without_case_system

    @property
    def mapping_context(self) -> dict[str, Any]:
        return {"tenant": self.tenant.context, "route": self.id}

    def tenant_of(self, target: TargetSpec) -> Tenant:
        return target.tenant or self.tenant

    def target_context(self, target: TargetSpec) -> dict[str, Any]:
        """An outbound mapping's context: the tenant the target works for, so tenants share one mapping."""
        return {"tenant": self.tenant_of(target).context, "route": self.id}

    @property
    def tenants(self) -> list[Tenant]:
        """The route's tenant, then each other tenant its targets work for."""
        found = [self.tenant]
        for target in self.targets:
            if target.tenant is not None and target.tenant not in found:
                found.append(target.tenant)
        return found


def routes_accepting(routes: list[Route], eservice: Any, mapping_at: Any, besides: str | None) -> list[str]:
    """The routes (other than ``besides``) with an inbound mapping that accepts ``eservice``: a hint in a refusal.
    ``mapping_at(path)`` gives the compiled mapping, or None where it is broken (a hint never fails on it). A mapping
    that reads the identity from another system (a JSON push of the same e-service) is no hint for this document."""

    def takes(mapping: Any) -> bool:
        system = mapping.identity.system if mapping.identity is not None else None
        return mapping.accepts(eservice) and (system is None or eservice.system in (None, system))

    return [route.id for route in routes if route.id != besides
            and any((m := mapping_at(path)) is not None and takes(m) for path in route.mappings)]


def no_target_reason(route: Route, case: dict[str, Any]) -> str:
    case_type = case.get("caseType")
    conditional = [f"{t.id} (when {t.when})" for t in route.targets if case_type in t.case_types and t.when]
    if conditional:
        return (f"route {route.id} has no target for this {case_type} case: its targets for {case_type} take a case "
                f"only when the path has a value: {', '.join(conditional)}")
    taken = sorted({t for target in route.targets for t in target.case_types})
    return f"route {route.id} has no target for case type {case_type} (its targets take: {', '.join(taken)})"


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


def _inbound_mappings(file: Path, where: str, mappings_dir: Path, raw: dict[str, Any]) -> tuple[Path, ...]:
    if "mapping" in raw:
        return (_resolve_mapping(file, f"{where}/mapping", mappings_dir, raw["mapping"]),)
    paths: list[Path] = []
    for k, relative in enumerate(raw["mappings"]):
        path = _resolve_mapping(file, f"{where}/mappings/{k}", mappings_dir, relative)
        if path in paths:
            raise ConfigError(f"{file}: {where}/mappings/{k}: {relative!r} is the same file as mappings/"
                              f"{paths.index(path)}")
        paths.append(path)
    return tuple(paths)


def _target_mappings(file: Path, where: str, mappings_dir: Path, raw: dict[str, Any]) -> dict[str, Path]:
    if "mappings" in raw:
        return {case_type: _resolve_mapping(file, f"{where}/mappings/{case_type}", mappings_dir, relative)
                for case_type, relative in raw["mappings"].items()}
    path = _resolve_mapping(file, f"{where}/mapping", mappings_dir, raw["mapping"])
    return dict.fromkeys(raw["case_types"], path)


# Keys of earlier versions, with what replaced them.
_REPLACED_KEYS = {"max_delivery_attempts": "retry.budget (a time, e.g. 24h; docs/reliability.md, 'Retry by time')"}


def _one_of_keys(instance: dict[str, Any], branches: list[dict[str, Any]]) -> str | None:
    """For a choice between sets of keys (mapping + case_types, or mappings): what is missing or too much.
    None for other kinds of oneOf, whose library message is then shown."""
    if not all(isinstance(b.get("required"), list) for b in branches):
        return None
    sets = [b["required"] for b in branches]
    choices = " or ".join(" + ".join(keys) for keys in sets)
    given = [keys for keys in sets if any(key in instance for key in keys)]
    if len(given) > 1:
        return f"give {choices}, not both"
    if not given:
        return f"give {choices}"
    missing = [key for key in given[0] if key not in instance]
    others = " or ".join(" + ".join(keys) for keys in sets if keys is not given[0])
    return f"{', '.join(missing)} missing: give it with {', '.join(k for k in given[0] if k in instance)}, " \
           f"or use {others} instead"


def _schema_problem(file: Path, error: jsonschema.ValidationError) -> str:
    where = _json_path(error.absolute_path) or "/"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        replaced = [f"{key} was replaced by {_REPLACED_KEYS[key]}" for key in error.instance if key in _REPLACED_KEYS]
        if replaced:
            return f"{file}: {where}: {'; '.join(replaced)} (rule: additionalProperties)"
    if error.validator == "oneOf":  # the library's "is not valid under any of the given schemas" helps nobody
        message = _one_of_keys(error.instance, error.validator_value) if isinstance(error.instance, dict) else None
        depth = len(error.absolute_path)
        of_its_kind = [e for e in error.context or () if e.validator != "type" and len(e.absolute_path) > depth]
        if message is None and of_its_kind:  # an id or an object: a field inside the object branch tells
            return _schema_problem(file, min(of_its_kind, key=lambda e: list(e.absolute_path)))
        if message is None and error.schema.get("description"):
            message = f"expected {error.schema['description'][0].lower()}{error.schema['description'][1:]}"
        if message:
            return f"{file}: {where}: {message} (rule: oneOf)"
    return f"{file}: {where}: {error.message} (rule: {error.validator})"


def _tenant(raw: dict[str, Any]) -> Tenant:
    return Tenant(raw["kommunkod"], raw["name"], raw["organisationsnummer"], dict(raw.get("values", {})))


def _tenant_named(file: Path, where: str, tenants: dict[str, Tenant], ref: str | dict[str, Any]) -> Tenant:
    if isinstance(ref, dict):
        return _tenant(ref)
    if ref not in tenants:
        known = ", ".join(sorted(tenants)) or "none (add a top-level tenants: section)"
        raise ConfigError(f"{file}: {where}: no tenant with id {ref!r}; known: {known}")
    return tenants[ref]


def _archive(file: Path, where: str, raw: dict[str, Any], retry: RetryPolicy) -> ArchiveSpec:
    _check_adapter(file, where, raw)
    return ArchiveSpec(raw["adapter"], raw.get("connection"), raw.get("config", {}),
                       retry=retry.merged(raw.get("retry")), submission_agreement=raw.get("submission_agreement"),
                       with_documents=raw.get("documents", "all") == "all")


def _digital_mail(file: Path, where: str, raw: dict[str, Any], retry: RetryPolicy) -> DigitalMailSpec:
    _check_adapter(file, where, raw)
    subject = raw.get("subject", DigitalMailSpec.subject)
    _check_placeholders(file, where, {"subject": subject}, has_case_system=True)
    return DigitalMailSpec(raw["adapter"], raw["connection"], raw.get("config", {}),
                           retry=retry.merged(raw.get("retry")),
                           kinds=tuple(raw.get("kinds", DigitalMailSpec.kinds)), subject=subject)


def _target(file: Path, where: str, mappings_dir: Path, raw: dict[str, Any], retry: RetryPolicy,
            tenants: dict[str, Tenant]) -> TargetSpec:
    _check_adapter(file, where, raw)
    tenant = _tenant_named(file, f"{where}/tenant", tenants, raw["tenant"]) if "tenant" in raw else None
    if "archive" in raw and tenant is None:
        raise ConfigError(f"{file}: {where}/archive: a target's own archive is its tenant's; give the target a "
                          "tenant, or use the route's archive")
    return TargetSpec(adapter=raw["adapter"], connection=raw.get("connection"), config=raw.get("config", {}),
                      retry=retry.merged(raw.get("retry")), id=raw["id"],
                      mappings=_target_mappings(file, where, mappings_dir, raw), tenant=tenant,
                      archive=_archive(file, f"{where}/archive", raw["archive"], retry) if "archive" in raw else None,
                      when=raw.get("when"), concurrency=raw.get("concurrency", DEFAULT_CONCURRENCY))


def parse_routes(document: Any, *, file: Path, mappings_dir: Path) -> list[Route]:
    errors = sorted(_routes_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [_schema_problem(file, e) for e in errors]
        raise ConfigError("invalid routes file:\n  " + "\n  ".join(lines))
    tenants = {key: _tenant(raw) for key, raw in document.get("tenants", {}).items()}
    by_code: dict[str, str] = {}
    for key, tenant in tenants.items():
        if tenant.kommunkod in by_code:
            raise ConfigError(f"{file}: /tenants/{key}/kommunkod: {tenant.kommunkod} is tenant "
                              f"{by_code[tenant.kommunkod]}'s too; one kommun, one tenant")
        by_code[tenant.kommunkod] = key
    routes: list[Route] = []
    seen: set[str] = set()
    for i, raw in enumerate(document["routes"]):
        where = f"/routes/{i}"
        if raw["id"] in seen:
            raise ConfigError(f"{file}: {where}/id: route id {raw['id']!r} is used twice")
        seen.add(raw["id"])
        _check_adapter(file, f"{where}/source", raw["source"])
        retry = RetryPolicy().merged(raw.get("retry"))
        tenant = _tenant_named(file, f"{where}/tenant", tenants, raw["tenant"])
        targets = [_target(file, f"{where}/targets/{j}", mappings_dir, t, retry, tenants)
                   for j, t in enumerate(raw.get("targets", []))]
        for j, target in enumerate(targets):
            if target.archive is not None and target.tenant == tenant:
                raise ConfigError(f"{file}: {where}/targets/{j}/archive: the target works for the route's own "
                                  "tenant, whose packages go to the route's archive; give the archive to the route")
        target_ids = [t.id for t in targets]
        twice = sorted({i for i in target_ids if target_ids.count(i) > 1})
        if twice:
            raise ConfigError(f"{file}: {where}/targets: target id {twice[0]!r} is used twice")
        without_case_system = set(raw.get("without_case_system", []))
        both = sorted(without_case_system & {t for target in targets for t in target.case_types})
        if both:
            raise ConfigError(f"{file}: {where}/without_case_system: {both[0]} also has a target; take it out of "
                              "one of them")
        archive = notify = property_lookup = None
        if "archive" in raw:
            archive = _archive(file, f"{where}/archive", raw["archive"], retry)
        if "notify" in raw:
            n = raw["notify"]
            _check_adapter(file, f"{where}/notify", n)
            targeted = {case_type for target in targets for case_type in target.case_types}
            notify = NotifySpec(adapter=n["adapter"], connection=n.get("connection"), config=n.get("config", {}),
                                retry=retry.merged(n.get("retry")),
                                **_notify_texts(file, f"{where}/notify", n, targeted, without_case_system))
        if "property_lookup" in raw:
            lookup = raw["property_lookup"]
            _check_adapter(file, f"{where}/property_lookup", lookup)
            property_lookup = AdapterRef(lookup["adapter"], lookup.get("connection"), lookup.get("config", {}),
                                         retry=retry.merged(lookup.get("retry")))
        digital_mail = _digital_mail(file, f"{where}/digital_mail", raw["digital_mail"], retry) \
            if "digital_mail" in raw else None
        routes.append(Route(
            id=raw["id"], tenant=tenant, description=raw.get("description", ""),
            source=AdapterRef(raw["source"]["adapter"], raw["source"].get("connection"),
                              raw["source"].get("config", {})),
            mappings=_inbound_mappings(file, where, mappings_dir, raw),
            targets=tuple(targets), without_case_system=tuple(sorted(without_case_system)), archive=archive,
            notify=notify, property_lookup=property_lookup, digital_mail=digital_mail,
            limits=Limits(**raw.get("limits", {})),
            retention=parse_duration(raw["retention"]["keep_for"]) if "retention" in raw else None,
            batch_size=raw.get("batch_size", 500),
            schedule=raw.get("schedule", "*/1 * * * *"),
        ))
    return routes


def read_routes_document(path: Path) -> Any:
    try:
        # libyaml when installed: every Airflow task parses the routes file, and the pure-Python loader is ~10x slower.
        return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError:
        raise ConfigError(f"routes file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None


def load_routes(path: Path, mappings_dir: Path) -> list[Route]:
    return parse_routes(read_routes_document(path), file=path, mappings_dir=mappings_dir)
