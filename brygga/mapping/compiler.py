"""Compile a mapping file into nested closures, once; run them many times.

Per run, the work is: one XPath (or dict walk) per source value, the converters, and building the dicts.
Everything that can be decided from the file alone (paths, converters, value maps, rule names, defaults)
is decided here, at compile time.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lxml import etree

from brygga.blobs import DEFAULT_MAX_ATTACHMENT_BYTES, BlobSink
from brygga.mapping import converters
from brygga.mapping.attachments import SIZE_UNITS, make_attachment
from brygga.mapping.dispatch import (
    OPEN_EPLATFORM_IDENTITY,
    OPEN_EPLATFORM_NS,
    Accept,
    EService,
    Identity,
    describe_accepts,
    parse_accepts,
)
from brygga.mapping.errors import (
    ConversionError,
    InvalidSource,
    InvalidXmlSource,
    MappingConfigError,
    MappingFailed,
    MappingProblem,
    NotAccepted,
)
from brygga.mapping.paths import JsonPaths, PathError, XmlPaths
from brygga.mapping.spec import MappingSpec, load_spec, location
from brygga.xmlread import DEFAULT_BINARY_ELEMENTS, read_xml
from brygga.xmlsafe import UnsafeOrMalformedXml

DEFAULT_TIMEZONE = "Europe/Stockholm"

# The keys that make a node a value: exactly one of them is its source.
VALUE_SOURCES = ("const", "path", "context", "template", "first_of", "position")
# What a value map's lookup gives instead of the map's default when claims are logged (see _Compiler.value).
_MAP_DEFAULT = object()
# `{name}` placeholders; `{{` and `}}` are literal braces. A lone brace is a config error.
_TEMPLATE_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")

# Keys a `source.reference` rule may have and still be read before the mapping runs (ReferencePath).
_PLAIN_REFERENCE_KEYS = frozenset({"path", "required", "default", "convert"})

# One entry per enclosing list: (output index, source position or None for `items` entries). The source
# position counts like the path language: from 1 in XPath, from 0 in JSON paths.
Loc = tuple[tuple[int, int | None], ...]
# A compiled output node: (current source node, run state) -> output value, or None to omit it.
Node = Callable[[Any, "_Run"], Any]


class _Run:
    """Mutable state of one run. Problems are kept raw and formatted only if the run fails."""

    __slots__ = ("blob_sink", "children", "claimed", "context", "loc", "max_attachment_bytes", "memo", "problems",
                 "root", "trace")

    def __init__(self, root: Any, context: dict[str, Any], blob_sink: BlobSink | None,
                 max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES) -> None:
        self.root = root
        # XML only: element -> {tag: first child with it}, filled lazily by the paths (brygga.mapping.paths).
        self.children: dict[Any, Any] = {}
        # XML only: (structural path, element) -> its matches, so that a condition asked twice is evaluated once.
        self.memo: dict[Any, Any] = {}
        # Position in the enclosing lists, kept here rather than passed down every call: only a problem
        # needs it, to name `parties[1].personnummer`.
        self.loc: Loc = ()
        # Only in the tracing run: output rule -> source path.
        self.trace: dict[str, str] | None = None
        # Only with `form_answers`: the claim log, the elements value-reading paths read (a leaf for a text value,
        # the whole element for `attachment`), in the order read. A value node that does not use what it read (a
        # default, `unmatched: empty`, a discarded `first_of` alternative) cuts its own claims off the end again,
        # so the log holds only what the output used. Per run, like everything here: a compiled mapping is shared,
        # and may be run from several threads.
        self.claimed: list[Any] | None = None
        self.context = context
        self.blob_sink = blob_sink
        self.max_attachment_bytes = max_attachment_bytes
        self.problems: list[tuple[str, str, Loc, str]] = []


@dataclass(frozen=True, slots=True)
class _Scope:
    """Compile-time position: the output rule template, the source path prefix, YAML location."""

    rule: str  # str.format template, e.g. "parties[{0}]"
    source: str  # str.format template of the source prefix, e.g. "fi:Values//fi:File[{0}]"
    depth: int  # number of enclosing lists, i.e. len(run.loc) at run time
    where: tuple[str | int, ...]  # where in the mapping file, for config errors


def _esc(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _copy(value: Any) -> Any:
    """Copy JSON-shaped data; ~10x cheaper than copy.deepcopy for the small constants mappings hold."""
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def _fresh(value: Any) -> Callable[[], Any]:
    """A constant must not be shared between outputs: a caller mutating one case would change the next."""
    if isinstance(value, (dict, list)):
        return lambda: _copy(value)
    return lambda: value


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


_POINTER_TOKEN = re.compile(r"[^/]+")


def _rule_from_pointer(pointer: str) -> list[str]:
    """``/parties/0/email`` -> ``["parties", "parties[0]", "parties[0].email"]``: the rule and its parents."""
    rules: list[str] = []
    current = ""
    for token in _POINTER_TOKEN.findall(pointer):
        token = token.replace("~1", "/").replace("~0", "~")
        current = f"{current}[{token}]" if token.isdigit() else (f"{current}.{token}" if current else token)
        rules.append(current)
    return rules


def parse_template(text: str) -> list[tuple[str, str | None]]:
    """``"{a} and {b}"`` -> ``[("", "a"), (" and ", "b")]``: (literal text, placeholder or None at the end).

    Raises ``ValueError`` for a lone brace or an empty placeholder; the compiler makes that a config error.
    """
    parts: list[tuple[str, str | None]] = []
    literal: list[str] = []
    pos = 0
    for match in _TEMPLATE_TOKEN.finditer(text):
        literal.append(text[pos:match.start()])
        pos = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            literal.append(token[0])
        elif match.group(1) is None:
            raise ValueError(f"a lone {token!r} at character {match.start() + 1}; write {token * 2} for a brace")
        elif not match.group(1).strip():
            raise ValueError(f"an empty placeholder at character {match.start() + 1}")
        else:
            parts.append(("".join(literal), match.group(1).strip()))
            literal = []
    literal.append(text[pos:])
    if "".join(literal) or not parts:
        parts.append(("".join(literal), None))
    return parts


def _placeholder_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    raise ConversionError("a template placeholder is a structure, not text")


def _names(rule_t: str, source_t: str, loc: Loc) -> tuple[str, str]:
    """Fill the rule and source templates with the list positions of one place in one run."""
    return rule_t.format(*(out for out, _ in loc)), source_t.format(*(pos for _, pos in loc))


def _traced(fn: Node, rule_t: str, source_t: str) -> Node:
    def record(node: Any, run: _Run) -> Any:
        value = fn(node, run)
        if value is not None and run.trace is not None:
            rule, source = _names(rule_t, source_t, run.loc)
            run.trace[rule] = source
        return value

    return record


@dataclass(frozen=True, slots=True)
class ReferencePath:
    """Where an inbound mapping reads the source's reference (``output.source.reference``), when that rule is a
    plain path: read before the mapping runs, and whether or not it ever succeeds (brygga.mapping.peek).

    XML: ``steps`` are the Clark tags of child steps from the document element, ``root_tag`` the document element
    the mapping requires (None: any). JSON: the key/index steps from the top object.
    """

    kind: str
    steps: tuple[str | int, ...]
    root_tag: str | None = None


@dataclass
class CompiledMapping:
    """A mapping ready to run. Build it with ``compile_mapping``; it is immutable and reusable."""

    file: str
    source_kind: str
    output_schema: str | None
    _build: Node = field(repr=False)
    _defaults: dict[str, Any] = field(repr=False)
    _root_tag: str | None = field(repr=False)
    _root_name: str | None = field(repr=False)
    _validate: Callable[[dict[str, Any]], list[Any]] | None = field(repr=False)
    # The same mapping compiled to record, per output rule, the source it came from. Run only when the
    # output validator rejects a case, to name the source path of each schema problem; never on success.
    _tracer: Node | None = field(repr=False)
    # XML only: local names of the elements whose base64 text goes to the blob sink while reading.
    _binary_names: frozenset[str] = field(default=DEFAULT_BINARY_ELEMENTS, repr=False)
    # `accepts` (None: every e-service) and where the source names its e-service (brygga.mapping.dispatch).
    _accepts: tuple[Accept, ...] | None = field(default=None, repr=False)
    _identity: Identity | None = field(default=None, repr=False)
    # `form_answers`: (document element, run) -> the unclaimed answers, or None when the mapping has none.
    _form_answers: Callable[[Any, _Run], list[dict[str, str]]] | None = field(default=None, repr=False)
    _reference: ReferencePath | None = field(default=None, repr=False)

    @property
    def identity(self) -> Identity | None:
        """Where this mapping reads the e-service's identity; None for a JSON mapping without ``identity``."""
        return self._identity

    @property
    def reference_path(self) -> ReferencePath | None:
        """Where ``source.reference`` is read, when it is a plain path (child steps in XML, at most ``convert:
        string``); None for a template, a constant, a conditional or any other rule."""
        return self._reference

    @property
    def accepts_any(self) -> bool:
        """True for a mapping without ``accepts``: it accepts every e-service."""
        return self._accepts is None

    @property
    def accept_entries(self) -> tuple[Accept, ...]:
        return self._accepts or ()

    def accepts(self, eservice: EService) -> bool:
        """Whether the mapping is for this e-service: some entry of ``accepts`` matches (always, without one)."""
        return self._accepts is None or any(entry.matches(eservice) for entry in self._accepts)

    def describe_accepts(self) -> str:
        """``FamilyID 412, versions >=3``; entries joined by ``; or ``; ``any e-service`` without ``accepts``."""
        return describe_accepts(self._accepts)

    def run(
        self,
        source: bytes | Path | BinaryIO | dict[str, Any] | Any,
        *,
        context: dict[str, Any] | None = None,
        blob_sink: BlobSink | None = None,
        max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
        source_name: str = "<input>",
        check_output: bool = True,
    ) -> dict[str, Any]:
        """Map one document. Raises ``InvalidSource`` (unreadable input) or ``MappingFailed`` (all problems).

        XML comes as bytes, a path or a binary stream; attachments go to ``blob_sink`` as the document is read
        (hashed and dropped when None), so a large file is never held in memory (brygga.xmlread).
        ``check_output=False`` skips the check against ``output_schema``: for a caller that validates the output
        itself, rule by rule (`brygga validate`).
        """
        root = self._read(source, source_name, blob_sink, max_attachment_bytes)
        ctx = self._defaults if not context else deep_merge(self._defaults, context)
        state = _Run(root, ctx, blob_sink, max_attachment_bytes)
        if self._root_tag is not None and root.tag != self._root_tag:
            raise MappingFailed([
                MappingProblem(self.file, "(document)", "/", f"the document element is not {self._root_name}")
            ])
        if self._accepts is not None and self._identity is not None:
            eservice = self._identity.from_tree(root, state.children)
            if not self.accepts(eservice):
                raise NotAccepted(f"mapping {self.file} does not accept {eservice.describe()}; it accepts "
                                  f"{self.describe_accepts()}", eservice)
        if self._form_answers is None:
            out = self._build(root, state) or {}
        else:
            state.claimed = []
            out = self._build(root, state) or {}
            answers = self._form_answers(root, state)
            if answers:
                out["formAnswers"] = answers
        if state.problems:
            raise MappingFailed([self._problem(*raw) for raw in state.problems])
        if check_output and self._validate is not None:
            found = self._validate(out)
            if found:
                raise MappingFailed(self._validation_problems(root, ctx, found))
        return out

    def _read(self, source: Any, source_name: str, sink: BlobSink | None, max_attachment_bytes: int) -> Any:
        if self.source_kind == "xml":
            if isinstance(source, (bytes, bytearray, memoryview, Path, io.IOBase)):
                try:
                    return read_xml(source, sink=sink, binary_names=self._binary_names,
                                    max_attachment_bytes=max_attachment_bytes, source_name=source_name)
                except UnsafeOrMalformedXml as exc:
                    raise InvalidXmlSource(str(exc)) from None
            if isinstance(source, etree._ElementTree):
                return source.getroot()
            if isinstance(source, etree._Element):
                return source
            raise InvalidSource(f"{source_name}: an XML mapping needs bytes, a path, a stream or an lxml element")
        if isinstance(source, Path):
            source = source.read_bytes()
        if isinstance(source, (bytes, bytearray, str)):
            try:
                source = json.loads(source)
            except (ValueError, UnicodeDecodeError) as exc:
                # json's message holds a position, never the document's content.
                raise InvalidSource(f"{source_name}: not valid JSON: {exc}") from None
        if not isinstance(source, dict):
            raise InvalidSource(f"{source_name}: a JSON mapping needs a JSON object at the top")
        return source

    def _problem(self, rule_t: str, source_t: str, loc: Loc, message: str) -> MappingProblem:
        rule, source = _names(rule_t, source_t, loc)
        return MappingProblem(self.file, rule, source, message)

    def _validation_problems(self, root: Any, context: dict[str, Any], found: list[Any]) -> list[MappingProblem]:
        trace: dict[str, str] = {}
        if self._tracer is not None:
            state = _Run(root, context, None)
            state.trace = trace
            self._tracer(root, state)
        problems = []
        for problem in found:
            rules = _rule_from_pointer(str(getattr(problem, "path", "")))
            # A missing field has no source of its own: name the source of the nearest parent instead.
            source = next((trace[r] for r in reversed(rules) if trace.get(r)), "")
            message = getattr(problem, "message", str(problem))
            schema_rule = getattr(problem, "rule", "")
            if schema_rule:
                message = f"{message} (output schema: {schema_rule})"
            problems.append(MappingProblem(self.file, rules[-1] if rules else "(document)", source, message))
        return problems


class _Compiler:
    def __init__(self, spec: MappingSpec, *, trace: bool = False) -> None:
        self.spec = spec
        self.trace = trace
        self.file = spec.file
        doc = spec.doc
        self.kind: str = doc["source"]
        self.paths: XmlPaths | JsonPaths = (
            XmlPaths(doc.get("namespaces", {})) if self.kind == "xml" else JsonPaths()
        )
        try:
            self.tz = ZoneInfo(doc.get("timezone", DEFAULT_TIMEZONE))
        except (ZoneInfoNotFoundError, ValueError):
            raise MappingConfigError(self.file, "timezone", "unknown IANA time zone") from None
        self.value_maps = doc.get("value_maps", {})
        self._converter_cache: dict[str, converters.Converter] = {}
        # With `form_answers`, value-reading paths log the element they read (run.claimed) and value nodes take
        # back the claims of a value they do not use; without, the getters and nodes are exactly the plain ones,
        # at no cost. The tracing twin never claims.
        self.claims = self.kind == "xml" and "form_answers" in doc and not trace

    # -- helpers ---------------------------------------------------------------------------------------
    def error(self, where: tuple[str | int, ...], message: str) -> MappingConfigError:
        return MappingConfigError(self.file, location(list(where)), message)

    def _path(self, kind: str, expr: str, where: tuple[str | int, ...]) -> Any:
        if self.claims and kind in ("text", "node"):
            kind = f"claiming_{kind}"
        try:
            return getattr(self.paths, kind)(expr)
        except PathError as exc:
            return self._raise(where, str(exc))

    def _raise(self, where: tuple[str | int, ...], message: str) -> Any:
        raise self.error(where, message)

    def _join(self, prefix: str, expr: str) -> str:
        """The full source path shown in problems: prefix of the enclosing `each` plus the relative path."""
        expr = _esc(expr)
        if not prefix or expr.startswith(("/", "$")):
            return expr
        if expr == ".":
            return prefix
        if self.kind == "json":
            return prefix + ("" if expr.startswith("[") else ".") + expr
        return f"{prefix}/{expr}"

    def _converter(self, name: str, where: tuple[str | int, ...]) -> converters.Converter:
        if name not in self._converter_cache:
            try:
                self._converter_cache[name] = converters.resolve(name, self.tz)
            except KeyError:
                raise self.error(where, f"unknown converter {name!r}") from None
            except converters.ConverterUnavailable as exc:
                raise self.error(where, str(exc)) from None
        return self._converter_cache[name]

    def _conditions(self, node: dict[str, Any], scope: _Scope) -> tuple[Any, Any]:
        when = self._path("test", node["when"], (*scope.where, "when")) if "when" in node else None
        unless = self._path("test", node["unless"], (*scope.where, "unless")) if "unless" in node else None
        return when, unless

    @staticmethod
    def _guard(fn: Node, when: Any, unless: Any) -> Node:
        if when is None and unless is None:
            return fn

        def guarded(node: Any, run: _Run) -> Any:
            if when is not None and not when(node, run):
                return None
            if unless is not None and unless(node, run):
                return None
            return fn(node, run)

        return guarded

    # -- nodes -----------------------------------------------------------------------------------------
    def node(self, spec: dict[str, Any], scope: _Scope) -> Node:
        if "each" in spec:
            return self.each_as_field(spec, scope)
        if "items" in spec:
            return self.items(spec, scope)
        if any(key in spec for key in VALUE_SOURCES):
            return self.value(spec, scope)
        if "fields" in spec:
            fn = self.fields(spec["fields"], _Scope(scope.rule, scope.source, scope.depth,
                                                    (*scope.where, "fields")))
            return self._guard(fn, *self._conditions(spec, scope))
        return self.fields(spec, scope)

    def fields(self, spec: dict[str, Any], scope: _Scope) -> Node:
        compiled: list[tuple[str, Node]] = []
        for name, child in spec.items():
            rule = f"{scope.rule}.{_esc(name)}" if scope.rule else _esc(name)
            compiled.append((name, self.node(child, _Scope(rule, scope.source, scope.depth,
                                                           (*scope.where, name)))))
        members = tuple(compiled)

        def build(node: Any, run: _Run) -> dict[str, Any] | None:
            out = {}
            for name, fn in members:
                value = fn(node, run)
                if value is not None:
                    out[name] = value
            return out or None

        return _traced(build, scope.rule, scope.source) if self.trace else build

    def items(self, spec: dict[str, Any], scope: _Scope) -> Node:
        depth = scope.depth
        entries: list[tuple[bool, Any]] = []
        for i, child in enumerate(spec["items"]):
            child_scope = _Scope(f"{scope.rule}[{{{depth}}}]", scope.source, depth + 1,
                                 (*scope.where, "items", i))
            if "each" in child:
                entries.append((True, self.each_into(child, child_scope)))
            else:
                entries.append((False, self.node(child, child_scope)))
        members = tuple(entries)

        def build(node: Any, run: _Run) -> list[Any] | None:
            out: list[Any] = []
            loc = run.loc
            for is_each, fn in members:
                if is_each:
                    fn(node, run, out)
                else:
                    run.loc = (*loc, (len(out), None))
                    value = fn(node, run)
                    if value is not None:
                        out.append(value)
            run.loc = loc
            return out or None

        return self._guard(build, *self._conditions(spec, scope))

    def each_into(self, spec: dict[str, Any], scope: _Scope) -> Callable[[Any, _Run, list[Any]], None]:
        """Compile an `each`; the result appends one item per match to the list it is given.

        ``scope.rule`` already ends with the list index placeholder for this depth.
        """
        where = (*scope.where, "each")
        select = self._path("nodes", spec["each"], where)
        position = scope.depth - 1  # the placeholder index of this list level
        item_source = f"{self._join(scope.source, spec['each'])}[{{{position}}}]"
        if "fields" in spec:
            item = self.fields(spec["fields"], _Scope(scope.rule, item_source, scope.depth, (*scope.where, "fields")))
        else:
            item = self.value(spec["value"], _Scope(scope.rule, item_source, scope.depth, (*scope.where, "value")))
        when, unless = self._conditions(spec, scope)
        xml = self.kind == "xml"
        # The source position in problems follows the path language: XPath counts from 1, JSON paths from 0.
        first_position = 1 if xml else 0
        rule_t, src_t = scope.rule, item_source

        def append(node: Any, run: _Run, out: list[Any]) -> None:
            loc = run.loc
            # Items are numbered as if none failed, so the 2nd File stays attachments[1] in problems even
            # when the 1st one had a problem of its own.
            index = len(out)
            for pos, match in enumerate(select(node, run), first_position):
                if xml and not isinstance(match, etree._Element):
                    run.problems.append((rule_t, src_t, (*loc, (index, pos)),
                                         "`each` must select elements, not text or attributes"))
                    continue
                if when is not None and not when(match, run):
                    continue
                if unless is not None and unless(match, run):
                    continue
                run.loc = (*loc, (index, pos))
                value = item(match, run)
                if value is not None:
                    out.append(value)
                index += 1
            run.loc = loc

        return append

    def each_as_field(self, spec: dict[str, Any], scope: _Scope) -> Node:
        depth = scope.depth
        append = self.each_into(spec, _Scope(f"{scope.rule}[{{{depth}}}]", scope.source, depth + 1,
                                             scope.where))

        def build(node: Any, run: _Run) -> list[Any] | None:
            out: list[Any] = []
            append(node, run, out)
            return out or None

        return build

    def value(self, spec: dict[str, Any], scope: _Scope) -> Node:
        where = scope.where
        names = spec.get("convert", [])
        names = [names] if isinstance(names, str) else list(names)
        steps = [self._converter(n, (*where, "convert")) for n in names]
        if "attachment" in spec:
            if "attachment" not in names:
                self._raise((*where, "attachment"), "`attachment` options need `convert: attachment`")
            size = spec["attachment"].get("size", "bytes")
            if size not in SIZE_UNITS:
                self._raise((*where, "attachment", "size"), f"unknown size unit {size!r}")
            steps[names.index("attachment")] = make_attachment(size)
        structural = any(n in converters.STRUCTURAL for n in names)
        if structural and names[0] not in converters.STRUCTURAL:
            self._raise((*where, "convert"), "a structural converter (attachment) must come first")
        if "extract" in spec:
            steps.append(self._extract(spec["extract"], (*where, "extract")))
        map_default: Callable[[], Any] | None = None
        if "map" in spec:
            steps.append(self._value_map(spec["map"], (*where, "map")))
            if self.claims and "default" in self.value_maps.get(spec["map"], {}):
                # The map's default is no reading of the answer: the step says so with _MAP_DEFAULT, and the node
                # gives the default and takes its claims back, so the answer stays in formAnswers.
                map_default = _fresh(self.value_maps[spec["map"]]["default"])
                steps[-1] = self._value_map(spec["map"], (*where, "map"), defaulted=_MAP_DEFAULT)
        conditions = self._conditions(spec, scope)

        if "const" in spec and not steps:
            constant = spec["const"]
            if isinstance(constant, (dict, list)):
                return self._guard(lambda node, run: _copy(constant), *conditions)
            return self._guard(lambda node, run: constant, *conditions)

        # Where the raw value comes from: (getter, source template) pairs; the first non-empty one wins.
        if "const" in spec:
            make = _fresh(spec["const"])
            getters: list[tuple[Any, str]] = [(lambda node, run: make(), "")]
        elif "context" in spec:
            getters = [(self._context_getter(spec["context"]), f"context:{_esc(spec['context'])}")]
        elif "template" in spec:
            getters = [self._template_getter(spec["template"], scope, (*where, "template"))]
        elif "first_of" in spec:
            # Each alternative is a whole value (its own convert/extract/map/when): the first non-empty wins.
            getters = [
                (self.value(alt, _Scope(scope.rule, scope.source, scope.depth, (*where, "first_of", i))),
                 self._source_label(alt, scope))
                for i, alt in enumerate(spec["first_of"])
            ]
        elif "position" in spec:
            getters = [(self._position_getter(spec["position"], scope, (*where, "position")), "")]
        else:
            exprs = spec["path"] if isinstance(spec["path"], list) else [spec["path"]]
            kind = "node" if structural else "text"
            getters = [(self._path(kind, e, (*where, "path")), self._join(scope.source, e)) for e in exprs]
        all_sources = " | ".join(s for _, s in getters if s)
        has_default = "default" in spec
        required = bool(spec.get("required", False))

        if self.trace:
            return self._guard(self._traced_value(getters, steps, spec.get("default"), scope), *conditions)
        simple_source = "template" not in spec  # a template getter can raise a ConversionError
        if len(getters) == 1 and not steps and not has_default and not required and simple_source:
            # The common case, a plain optional text field: the getter itself is the node (no wrapper call).
            return self._guard(getters[0][0], *conditions)

        convert = tuple(steps)
        default = _fresh(spec.get("default"))
        rule_t = scope.rule
        sources = tuple(getters)
        claims = self.claims

        def finish(value: Any, source_t: str, run: _Run, mark: int) -> Any:
            # ``mark``: the length of the claim log before this node read anything. Whenever the result is not the
            # value read (nothing usable, a default), the claims made since are taken back (with `form_answers`).
            if value is not None:
                try:
                    for step in convert:
                        value = step(value, run)
                        if value is None:  # `extract` with `unmatched: empty`, or an optional group
                            break
                except ConversionError as exc:
                    run.problems.append((rule_t, source_t, run.loc, str(exc)))
                    return None
                if value is not None and value != "" and value is not _MAP_DEFAULT:
                    return value
            return unused(value, run, mark)

        def unused(value: Any, run: _Run, mark: int) -> Any:
            """The value read (after converting) is empty, or the value map's default: what the node gives instead."""
            if value is _MAP_DEFAULT:
                del run.claimed[mark:]  # type: ignore[index]
                value = map_default()  # type: ignore[misc]
                if value is not None and value != "":
                    return value
            if claims:
                del run.claimed[mark:]  # type: ignore[index]
            if has_default:
                return default()
            if required:
                run.problems.append((rule_t, all_sources, run.loc, "required value is missing or empty"))
            return None

        if len(sources) == 1:
            # One source (the usual case): no loop over alternatives, and the conversion inlined.
            get, source_t = sources[0]

            def build_one(node: Any, run: _Run) -> Any:
                mark = len(run.claimed) if claims else 0  # type: ignore[arg-type]
                try:
                    value = get(node, run)  # a template getter can raise
                    if value is not None:
                        for step in convert:
                            value = step(value, run)
                            if value is None:  # `extract` with `unmatched: empty`, or an optional group
                                break
                except ConversionError as exc:
                    run.problems.append((rule_t, source_t, run.loc, str(exc)))
                    return None
                if value is not None and value != "" and value is not _MAP_DEFAULT:
                    return value
                return unused(value, run, mark)

            return self._guard(build_one, *conditions)

        def build_first(node: Any, run: _Run) -> Any:
            before = len(run.problems)
            mark = len(run.claimed) if claims else 0  # type: ignore[arg-type]
            for get, source_t in sources:
                try:
                    value = get(node, run)
                except ConversionError as exc:
                    run.problems.append((rule_t, source_t, run.loc, str(exc)))
                    return None
                if value is not None:
                    return finish(value, source_t, run, mark)
            if len(run.problems) > before:
                return None  # a `first_of` alternative already said what is wrong; "missing" would only add noise
            return finish(None, all_sources, run, mark)

        return self._guard(build_first, *conditions)

    @staticmethod
    def _traced_value(getters: list[tuple[Any, str]], steps: list[Any], default: Any, scope: _Scope) -> Node:
        """The tracing twin of a value: the same result, plus which source produced it."""
        rule_t = scope.rule

        def record(node: Any, run: _Run) -> Any:
            for get, source_t in getters:
                try:
                    value = get(node, run)
                    if value is None:
                        continue
                    for step in steps:
                        value = step(value, run)
                        if value is None:
                            break
                except ConversionError:
                    return None
                if run.trace is not None:
                    rule, source = _names(rule_t, source_t, run.loc)
                    run.trace[rule] = source
                return value
            return _copy(default)

        return record

    def _source_label(self, spec: dict[str, Any], scope: _Scope) -> str:
        """The source template a value's problems name: its path(s), its context key, its placeholders."""
        if "context" in spec:
            return f"context:{_esc(spec['context'])}"
        if "path" in spec:
            exprs = spec["path"] if isinstance(spec["path"], list) else [spec["path"]]
            return " | ".join(self._join(scope.source, e) for e in exprs)
        if "template" in spec:
            try:
                names = [name for _, name in parse_template(spec["template"]) if name is not None]
            except ValueError:
                return ""
            return " + ".join(self._join(scope.source, name) for name in names)
        if "first_of" in spec:
            return " | ".join(label for alt in spec["first_of"] if (label := self._source_label(alt, scope)))
        return ""

    def _template_getter(self, text: str, scope: _Scope, where: tuple[str | int, ...]) -> tuple[Any, str]:
        """``template: "{givenName} {familyName}"``: placeholders are text paths, compiled here once."""
        try:
            parsed = parse_template(text)
        except ValueError as exc:
            return self._raise(where, f"invalid template: {exc}")
        parts = tuple(
            (literal, None if name is None else self._path("text", name, where)) for literal, name in parsed
        )

        def get(node: Any, run: _Run) -> str | None:
            out: list[str] = []
            found = False
            for literal, placeholder in parts:
                out.append(literal)
                if placeholder is not None:
                    value = placeholder(node, run)
                    if value is not None:
                        found = True
                        out.append(_placeholder_text(value))
            # Every placeholder empty: the value is empty (omitted, or its default), not the bare literals.
            return ("".join(out).strip() or None) if found else None

        return get, self._source_label({"template": text}, scope)

    def _position_getter(self, kind: str, scope: _Scope, where: tuple[str | int, ...]) -> Callable[[Any, _Run], Any]:
        """``position: first`` (true for the first item of the innermost list) or ``index`` (0-based)."""
        if scope.depth == 0:
            self._raise(where, "`position` needs an enclosing `each` or `items` list")
        level = scope.depth - 1
        if kind == "first":
            return lambda node, run: run.loc[level][0] == 0
        return lambda node, run: run.loc[level][0]

    def _regex(self, pattern: str, where: tuple[str | int, ...]) -> re.Pattern[str]:
        try:
            return re.compile(pattern)
        except re.error as exc:
            return self._raise(where, f"invalid regular expression: {exc}")

    def _extract(self, spec: dict[str, Any], where: tuple[str | int, ...]) -> converters.Converter:
        """``extract: {pattern, group | template, unmatched}``: a regex search, compiled here once."""
        regex = self._regex(spec["pattern"], (*where, "pattern"))

        def group_of(ref: str | int, at: tuple[str | int, ...]) -> str | int:
            ref = int(ref) if isinstance(ref, int) or ref.isdigit() else ref
            if (isinstance(ref, int) and ref > regex.groups) or (isinstance(ref, str) and ref not in regex.groupindex):
                self._raise(at, f"the pattern has no group {ref!r}")
            return ref

        if "template" in spec:
            try:
                parsed = parse_template(spec["template"])
            except ValueError as exc:
                return self._raise((*where, "template"), f"invalid template: {exc}")
            parts = tuple((lit, None if ref is None else group_of(ref, (*where, "template"))) for lit, ref in parsed)

            def render(match: re.Match[str]) -> str | None:
                text = "".join(lit + ((match.group(ref) or "") if ref is not None else "") for lit, ref in parts)
                return text.strip() or None
        else:
            group = group_of(spec.get("group", 0), (*where, "group"))

            def render(match: re.Match[str]) -> str | None:
                return match.group(group) or None

        unmatched = spec.get("unmatched", "problem")
        search = regex.search

        def extract(value: Any, run: Any) -> Any:
            if isinstance(value, str):
                text = value
            elif isinstance(value, int) and not isinstance(value, bool):
                text = str(value)
            else:
                raise ConversionError("value is not text and cannot be matched against a pattern")
            match = search(text)
            if match is not None:
                return render(match)
            if unmatched == "keep":
                return value
            if unmatched == "empty":
                return None
            raise ConversionError("value does not match the pattern of `extract`")

        return extract

    @staticmethod
    def _context_getter(dotted: str) -> Callable[[Any, _Run], Any]:
        keys = tuple(dotted.split("."))

        def get(node: Any, run: _Run) -> Any:
            value: Any = run.context
            for key in keys:
                if not isinstance(value, dict):
                    return None
                value = value.get(key)
            if value is None or value == "":
                return None
            # Context containers belong to the caller (or to the mapping's defaults): never share them.
            return _copy(value) if isinstance(value, (dict, list)) else value

        return get

    def _value_map(self, name: str, where: tuple[str | int, ...], defaulted: Any = None) -> converters.Converter:
        """The lookup of value map ``name``; it gives ``defaulted`` rather than the map's default when that is set
        (the node then gives the default, see ``value``)."""
        if name not in self.value_maps:
            self._raise(where, f"unknown value map {name!r}")
        table = dict(self.value_maps[name].get("values", {}))
        patterns = tuple(
            (self._regex(entry["pattern"], ("value_maps", name, "patterns", i, "pattern")).search, entry["value"])
            for i, entry in enumerate(self.value_maps[name].get("patterns", ()))
        )
        has_default = "default" in self.value_maps[name]
        default = self.value_maps[name].get("default") if defaulted is None else defaulted
        message = f"value is not a code in value map {name!r}, which has no default"

        def lookup(value: Any, run: _Run) -> Any:
            try:
                return table[value]
            except (KeyError, TypeError):
                pass
            if patterns and isinstance(value, str):
                for search, code in patterns:
                    if search(value) is not None:
                        return code
            if has_default:
                return default
            raise ConversionError(message)

        return lookup

    # -- the whole file --------------------------------------------------------------------------------
    def root_tag(self) -> tuple[str | None, str | None]:
        name = self.spec.doc.get("root")
        if name is None:
            return None, None
        if self.kind != "xml":
            self._raise(("root",), "`root` applies to XML sources only")
        prefix, _, local = name.rpartition(":")
        namespaces = self.spec.doc.get("namespaces", {})
        if prefix and prefix not in namespaces:
            self._raise(("root",), f"namespace prefix {prefix!r} is not declared in `namespaces`")
        return (f"{{{namespaces[prefix]}}}{local}" if prefix else local), name

    def validator(self) -> Callable[[dict[str, Any]], list[Any]] | None:
        if self.spec.doc.get("output_schema") is None:
            return None
        try:
            from brygga.canonical import validate_case
        except ImportError:
            raise self.error(("output_schema",), "needs brygga.canonical.validate_case") from None
        return validate_case

    def output(self) -> Node:
        return self.fields(self.spec.doc["output"], _Scope("", "", 0, ("output",)))

    def accepts(self) -> tuple[Accept, ...] | None:
        if "accepts" not in self.spec.doc:
            return None
        return parse_accepts(self.spec.doc["accepts"], self.error)

    def identity(self, root_tag: str | None, has_accepts: bool) -> Identity | None:
        """The mapping's ``identity``, or the default: Open ePlatform's Header/Flow for XML."""
        spec = self.spec.doc.get("identity")
        if spec is None:
            if self.kind == "json":
                if has_accepts:
                    self._raise(("accepts",), "a JSON source needs `identity`: the JSON paths where the document "
                                              "names its e-service (family_id, flow_id, version, name)")
                return None
            if root_tag is not None and root_tag != OPEN_EPLATFORM_IDENTITY.root_tag:
                if has_accepts:
                    self._raise(("accepts",), "`identity` is needed: the default identity is for Open ePlatform "
                                              f"FlowInstance documents ({{{OPEN_EPLATFORM_NS}}}FlowInstance)")
                return None
            return OPEN_EPLATFORM_IDENTITY
        fields: list[tuple[str, tuple[str | int, ...]]] = []
        for name in ("family_id", "flow_id", "version", "name"):
            if name not in spec:
                continue
            where = ("identity", name)
            if self.kind == "xml":
                tags = self.paths._simple(spec[name]) if isinstance(self.paths, XmlPaths) else None
                if tags is None:
                    self._raise(where, "an XML identity path is child steps with declared prefixes "
                                       "(fi:Header/fi:Flow/fi:FamilyID): it is read while the document streams")
                fields.append((name, tuple(tags or ())))
            else:
                try:
                    fields.append((name, JsonPaths.steps(spec[name])[1]))
                except PathError as exc:
                    self._raise(where, str(exc))
        return Identity(self.kind, spec.get("system"), tuple(fields), None)

    def reference(self, root_tag: str | None) -> ReferencePath | None:
        """``output.source.reference`` as a ``ReferencePath``, or None when it is anything but a plain path."""
        source = self.spec.doc["output"].get("source")
        if not isinstance(source, dict) or any(key in source for key in ("each", "items", *VALUE_SOURCES)):
            return None
        if "fields" in source:
            if "when" in source or "unless" in source:
                return None
            source = source["fields"]
        rule = source.get("reference") if isinstance(source, dict) else None
        if not isinstance(rule, dict) or not isinstance(rule.get("path"), str) or set(rule) - _PLAIN_REFERENCE_KEYS:
            return None
        if rule.get("convert") not in (None, "string", ["string"]):
            return None  # a converter that changes the value: only the run knows what it gives
        if isinstance(self.paths, XmlPaths):
            tags = self.paths._simple(rule["path"])
            return ReferencePath("xml", tags, root_tag) if tags else None
        try:
            _, steps = JsonPaths.steps(rule["path"])
        except PathError:
            return None
        return ReferencePath("json", steps) if steps else None

    def form_answers(self) -> Callable[[Any, _Run], list[dict[str, str]]] | None:
        """``form_answers``: every answer (a leaf element with text) of each question that no rule claimed."""
        spec = self.spec.doc.get("form_answers")
        if spec is None or self.trace:
            return None
        where: tuple[str | int, ...] = ("form_answers",)
        if self.kind != "xml":
            self._raise(where, "`form_answers` applies to XML sources only")
        if "formAnswers" in self.spec.doc["output"]:
            self._raise(("output", "formAnswers"), "formAnswers is written by `form_answers`; do not map it too")
        select = self._path("nodes", spec["each"], (*where, "each"))
        label = None
        if "label" in spec:
            try:
                label = self.paths.text(spec["label"])  # reading the label claims nothing
            except PathError as exc:
                self._raise((*where, "label"), str(exc))
        paths: set[tuple[str, ...]] = set()
        ignores = []
        for i, expr in enumerate(spec.get("ignore", ())):
            node_getter = self._path("nodes", expr, (*where, "ignore", i))  # checks the XPath in any case
            tags = self.paths._simple(expr) if isinstance(self.paths, XmlPaths) else None
            if tags is not None:
                paths.add(tags)  # child steps: every element at that relative tag path, as the XPath selects
            else:
                ignores.append(node_getter)
        binary = frozenset(self.spec.doc.get("binary_elements", DEFAULT_BINARY_ELEMENTS))
        return _form_answer_collector(select, label, frozenset(paths), tuple(ignores), binary)

    def compile(self) -> CompiledMapping:
        if self.kind == "json" and self.spec.doc.get("namespaces"):
            self._raise(("namespaces",), "`namespaces` applies to XML sources only")
        build = self.output()
        root_tag, root_name = self.root_tag()
        accepts = self.accepts()
        identity = self.identity(root_tag, accepts is not None)
        form_answers = self.form_answers()
        validate = self.validator()
        tracer = _Compiler(self.spec, trace=True).output() if validate is not None else None
        return CompiledMapping(
            file=self.file,
            source_kind=self.kind,
            output_schema=self.spec.doc.get("output_schema"),
            _build=build,
            _defaults=self.spec.doc.get("defaults", {}),
            _root_tag=root_tag,
            _root_name=root_name,
            _validate=validate,
            _tracer=tracer,
            _binary_names=frozenset(self.spec.doc.get("binary_elements", DEFAULT_BINARY_ELEMENTS)),
            _accepts=accepts,
            _identity=identity,
            _form_answers=form_answers,
            _reference=self.reference(root_tag),
        )


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


# Trie of the `ignore` paths made of child steps: Clark tag -> (a whole ignore path ends here, the next steps).
_Trie = dict[str, tuple[bool, "_Trie"]]


def _ignore_trie(paths: frozenset[tuple[str, ...]]) -> _Trie:
    trie: _Trie = {}
    for path in paths:
        level = trie
        for i, tag in enumerate(path):
            ends, below = level.get(tag, (False, {}))
            level[tag] = (ends or i == len(path) - 1, below)
            level = below
    return trie


def _question_of(element: Any, question: Any) -> str:
    """The local names from ``question`` down to ``element``, without a last ``Value`` step: ``ytor/Bruttoarea``."""
    steps = []
    while element is not question:
        steps.append(_local(element.tag))
        element = element.getparent()
    steps.append(_local(question.tag))
    if len(steps) > 1 and steps[0] == "Value":
        del steps[0]
    return "/".join(reversed(steps))


def _form_answer_collector(select: Callable[[Any, Any], list[Any]], label: Callable[[Any, Any], Any] | None,
                           ignored_paths: frozenset[tuple[str, ...]],
                           ignores: tuple[Callable[[Any, Any], list[Any]], ...],
                           binary: frozenset[str]) -> Callable[[Any, _Run], list[dict[str, str]]]:
    """The answers no rule read, in document order: ``{question, label, value}`` per unclaimed leaf element.

    A leaf is an element without element children and with text that is not blank. It is unclaimed when neither
    it nor an ancestor is in ``run.claimed``, and it is skipped under an ``ignore`` match and in binary elements.
    ``question`` is the path of local names from the question element to the leaf, without a last ``Value`` step.
    ``ignored_paths``: the ``ignore`` paths made of child steps, as Clark tags relative to the question (checked
    during the walk, no XPath); ``ignores``: the others, evaluated per question.
    The values are the resident's answers: they go into the output only, never into a problem or a log.

    Most leaves are claimed, so the walk is what costs: children come from the run's child index where the paths
    built one (no tag strings made again), a child is checked before it is pushed, and the question path is only
    spelled out for an answer that is kept.
    """
    trie = _ignore_trie(ignored_paths)

    def collect(root: Any, run: _Run) -> list[dict[str, str]]:
        claimed = set(run.claimed or ())  # the claim log holds only the claims of values the output used
        seen: set[Any] = set()  # a leaf under two matched questions (`fi:Values//*`) is kept once
        clear: dict[Any, bool] = {}  # parent -> no claimed ancestor-or-self (questions share their parent)
        indexes = run.children
        out: list[dict[str, str]] = []
        for question in select(root, run):
            if not isinstance(question, etree._Element) or not isinstance(question.tag, str) or question in claimed:
                continue
            parent = question.getparent()
            unclaimed = clear.get(parent)
            if unclaimed is None:
                unclaimed = clear[parent] = parent is None or (
                    parent not in claimed and not any(a in claimed for a in parent.iterancestors()))
            if not unclaimed:
                continue
            ignored = {n for get in ignores for n in get(question, run)} if ignores else ()
            if _local(question.tag) in binary or (ignored and question in ignored):
                continue
            title: str | None = None
            titled = False
            # Depth first in document order: children are pushed last first. Each entry passed every skip test.
            stack: list[tuple[Any, _Trie]] = [(question, trie)]
            while stack:
                element, level = stack.pop()
                count = len(element)
                if count:
                    index = indexes.get(element)
                    if index is not None and len(index) == count:  # no tag repeats: the index is every child
                        pairs: Any = index.items()  # built back to front: last child first
                    else:
                        pairs = [(child.tag, child) for child in element[::-1]]
                    leaf = True
                    for tag, child in pairs:
                        if not isinstance(tag, str):  # a comment or processing instruction
                            continue
                        leaf = False
                        if child in claimed or (ignored and child in ignored):
                            continue
                        below = level.get(tag) if level else None
                        if below is not None and below[0]:  # an `ignore` path ends here
                            continue
                        if tag[tag.rfind("}") + 1:] in binary:
                            continue
                        stack.append((child, below[1] if below is not None else {}))
                    if not leaf:
                        continue
                    text = "".join(element.itertext())
                else:
                    text = element.text
                if not text or element in seen:
                    continue
                text = text.strip()
                if not text:
                    continue
                seen.add(element)
                if not titled:  # the label is read only for a question that has an unclaimed answer
                    title = label(question, run) if label is not None else None
                    titled = True
                entry = {"question": _question_of(element, question)}
                if title:
                    entry["label"] = title
                entry["value"] = text
                out.append(entry)
        return out

    return collect


def compile_mapping(path: Path | str, *, file: str | None = None) -> CompiledMapping:
    """Load, schema-check and compile one mapping file. Raises ``MappingConfigError``.

    ``file`` is the name used in every error (default: the path as given).
    """
    path = Path(path)
    return _Compiler(load_spec(path, file)).compile()
