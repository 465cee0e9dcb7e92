"""The sample set: Brygga's bundled e-service samples, taken in by the bundled routes the way a run would.

Each sample is translated by the bundled route that accepts it (dispatch by e-service, as ``brygga translate``
does), its attachments go to the run's content store, and ``delivery`` gives the DeliveryRequest Brygga would
send a target. The bundled routes and mappings are read whatever BRYGGA_CONFIG says, so the kit sends the same
requests everywhere, from a wheel as from a checkout.

The kit has no property register: a route's ``property_lookup`` is not run, so a case reaches its target without
the fastighetsnyckel (FNR), as it does on a route without a lookup (docs/reliability.md, "Property keys").

The samples' own attachments are small; ``large_document_mb`` adds a generated drawing of real size to each
(drawing.py), so the documents-intact check proves a 25 MB drawing arrives intact too.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from brygga.canonical import validate_case
from brygga.mapping import CompiledMapping, InvalidSource, MappingFailed, choose_mapping, compile_mapping
from brygga.plugins import DeliveryRequest, StoredDocument
from brygga.resources import resource
from brygga.routes import Route, TargetSpec, load_routes
from brygga.storage import ContentStore
from brygga_conformance.drawing import store_drawing

# Webhook samples share their stem with the Open ePlatform export of the same form, so they get a prefix.
WEBHOOK_PREFIX = "webhook-"
DRAWING_SOURCE_ID = "brygga-conformance-drawing"  # the generated drawing's sourceId in a case's attachments


class UnknownSample(LookupError):
    """A sample, route or target the kit does not have; the message lists the known ones."""

    def __str__(self) -> str:  # KeyError-style quoting would make the message unreadable
        return str(self.args[0])


@dataclass(frozen=True)
class Sample:
    name: str  # the sample file's stem, e.g. "bygglov-person" ("webhook-" + stem for a JSON push)
    case: dict[str, Any]  # the canonical case (validated)
    documents: list[StoredDocument]  # its attachments in the run's content store
    route: str  # the bundled route that takes it in (kumla-bygglov, ...)


def bundled_routes() -> list[Route]:
    return load_routes(resource("routes", "routes.yaml"), resource("mappings"))


def _sample_files() -> list[tuple[str, Path]]:
    files = [(p.stem, p) for p in sorted(resource("samples", "open-eplatform").glob("*.xml"))]
    files += [(WEBHOOK_PREFIX + p.stem, p) for p in sorted(resource("samples", "webhook").glob("*.json"))]
    return files


class SampleSet:
    def __init__(self, samples: list[Sample], routes: list[Route], content: ContentStore) -> None:
        self.samples = samples
        self.content = content
        self.drawing: StoredDocument | None = None  # the generated drawing each sample carries (large_document_mb)
        self._routes = {route.id: route for route in routes}
        self._mappings: dict[Path, CompiledMapping] = {}

    @classmethod
    def load(cls, workdir: Path, names: Sequence[str] | None = None, *, large_document_mb: int = 0) -> SampleSet:
        """Every bundled sample a bundled route accepts and translates to a valid case (those meant to fail, such as
        a malformed file or a bad personnummer, are left out); only ``names`` when given, and only those are
        translated (UnknownSample for one the set does not have). Attachments go to ``workdir/content``. With
        ``large_document_mb``, each sample also carries a generated drawing of that many MiB (drawing.py)."""
        content = ContentStore(workdir / "content")
        content.root.mkdir(parents=True, exist_ok=True)
        sample_set = cls([], bundled_routes(), content)
        files = _sample_files()
        if names:
            files = [(name, path) for name, path in files if name in names]
        sample_set.samples = sample_set._translate_all(files)
        if names:
            known = {s.name: s for s in sample_set.samples}
            unknown = [n for n in names if n not in known]
            if unknown:  # only now is every sample translated: the message lists the ones there are
                every = sample_set._translate_all(_sample_files())
                raise UnknownSample(f"no sample {unknown[0]!r}; known: {', '.join(s.name for s in every)}")
            sample_set.samples = [known[n] for n in dict.fromkeys(names)]
        if large_document_mb:
            sample_set.samples = sample_set._with_drawing(large_document_mb)
        return sample_set

    def _translate_all(self, files: list[tuple[str, Path]]) -> list[Sample]:
        return [sample for name, path in files if (sample := self._translate(name, path)) is not None]

    def _with_drawing(self, mb: int) -> list[Sample]:
        """Each sample with the generated drawing as its last attachment (one file in the store for all)."""
        self.drawing = drawing = store_drawing(self.content, mb)
        record = {"sourceId": DRAWING_SOURCE_ID, "name": drawing.name, "mediaType": drawing.media_type,
                  "size": drawing.size, "sha256": drawing.sha256}
        return [replace(sample, case={**sample.case, "attachments": [*sample.case.get("attachments", []), record]},
                        documents=[*sample.documents, drawing])
                for sample in self.samples]

    def _mapping(self, path: Path) -> CompiledMapping:
        if path not in self._mappings:
            root = resource("mappings").resolve().parent
            self._mappings[path] = compile_mapping(path, file=str(path.resolve().relative_to(root)))
        return self._mappings[path]

    def _translate(self, name: str, path: Path) -> Sample | None:
        """The sample as the first bundled route that accepts it takes it in; None when none does, or the
        translation fails (the samples that are meant to)."""
        for route in self._routes.values():
            if not route.targets:
                continue
            try:
                mapping, _ = choose_mapping([self._mapping(p) for p in route.mappings], path, route=route.id,
                                            source_name=f"sample {name}")
                case = mapping.run(path, context=route.mapping_context, blob_sink=self.content,
                                   max_attachment_bytes=route.limits.max_attachment_bytes,
                                   source_name=f"sample {name}")
            except InvalidSource:  # not this route's e-service (NotAccepted), or not readable at all
                continue
            except MappingFailed:
                return None
            if validate_case(case) or not route.targets_for(case):
                return None
            return Sample(name, case, self.content.documents(case.get("attachments", [])), route.id)
        return None

    def of_types(self, *case_types: str) -> list[Sample]:
        return [s for s in self.samples if s.case["caseType"] in case_types]

    def route(self, route: str) -> Route:
        if route not in self._routes:
            raise UnknownSample(f"no bundled route {route!r}; known: {', '.join(self._routes)}")
        return self._routes[route]

    def target(self, route: str, target: str) -> TargetSpec:
        spec = self.route(route)
        for candidate in spec.targets:
            if candidate.id == target:
                return candidate
        raise UnknownSample(f"route {route} has no target {target!r}; its targets: "
                            f"{', '.join(t.id for t in spec.targets)}")

    def target_config(self, route: str, target: str) -> dict[str, Any]:
        """That target's ``config`` in the bundled routes.yaml (e.g. the REST adapter's paths)."""
        return copy.deepcopy(self.target(route, target).config)

    def delivery(self, sample: Sample, *, route: str | None = None, target: str, run_id: str,
                 repeat: int = 0) -> DeliveryRequest:
        """The DeliveryRequest Brygga would send ``target`` (its id in routes.yaml) of ``route`` (default: the
        sample's). Its extern ref and idempotency key are unique per run and sample, so runs never collide in a
        vendor's test system; ``repeat`` changes nothing (a repeat is the same request), it only says which one
        this is to a reader of the profile."""
        route_spec = self.route(route or sample.route)
        spec = self.target(route_spec.id, target)
        case_type = sample.case["caseType"]
        if case_type not in spec.mappings:
            raise UnknownSample(f"target {target} of route {route_spec.id} takes no {case_type} case; it takes: "
                                f"{', '.join(spec.case_types)}")
        case = copy.deepcopy(sample.case)
        payload = self._mapping(spec.mapping_for(case_type)).run(case, context=route_spec.target_context(spec))
        ref = f"conformance-{run_id}-{sample.name}"
        key = hashlib.sha256(f"{ref}|{target}".encode()).hexdigest()
        return DeliveryRequest(submission_id=ref, idempotency_key=key, extern_ref=ref, payload=payload, case=case,
                               documents=list(sample.documents))
