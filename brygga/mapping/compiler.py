"""Compile a mapping file into nested closures, once; run them many times.

Per run, the work is: one XPath (or dict walk) per source value, the converters, and building the dicts.
Everything that can be decided from the file alone (paths, converters, value maps, rule names, defaults)
is decided here, at compile time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lxml import etree

from brygga.mapping import converters
from brygga.mapping.errors import (
    ConversionError,
    InvalidSource,
    InvalidXmlSource,
    MappingConfigError,
    MappingFailed,
    MappingProblem,
)
from brygga.mapping.paths import JsonPaths, PathError, XmlPaths
from brygga.mapping.spec import MappingSpec, load_spec, location
from brygga.xmlsafe import UnsafeOrMalformedXml, parse_xml

DEFAULT_TIMEZONE = "Europe/Stockholm"

# One entry per enclosing list: (output index, 1-based source position or None for `items` entries).
Loc = tuple[tuple[int, int | None], ...]
# A compiled output node: (current source node, run state) -> output value, or None to omit it.
Node = Callable[[Any, "_Run"], Any]
Sink = Callable[[str, bytes], None]


class _Run:
    """Mutable state of one run. Problems are kept raw and formatted only if the run fails."""

    __slots__ = ("attachment_sink", "children", "context", "loc", "problems", "root", "trace")

    def __init__(self, root: Any, context: dict[str, Any], attachment_sink: Sink | None) -> None:
        self.root = root
        # XML only: element -> (first child per tag, repeated tags), filled lazily by simple paths.
        self.children: dict[Any, Any] = {}
        # Position in the enclosing lists, kept here rather than passed down every call: only a problem
        # needs it, to name `parties[1].personnummer`.
        self.loc: Loc = ()
        # Only in the tracing run: output rule -> source path.
        self.trace: dict[str, str] | None = None
        self.context = context
        self.attachment_sink = attachment_sink
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


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
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

    def run(
        self,
        source: bytes | dict[str, Any] | Any,
        *,
        context: dict[str, Any] | None = None,
        attachment_sink: Sink | None = None,
        source_name: str = "<input>",
    ) -> dict[str, Any]:
        """Map one document. Raises ``InvalidSource`` (unreadable input) or ``MappingFailed`` (all problems)."""
        root = self._read(source, source_name)
        ctx = self._defaults if not context else _deep_merge(self._defaults, context)
        state = _Run(root, ctx, attachment_sink)
        if self._root_tag is not None and root.tag != self._root_tag:
            raise MappingFailed([
                MappingProblem(self.file, "(document)", "/", f"the document element is not {self._root_name}")
            ])
        out = self._build(root, state) or {}
        if state.problems:
            raise MappingFailed([self._problem(*raw) for raw in state.problems])
        if self._validate is not None:
            found = self._validate(out)
            if found:
                raise MappingFailed(self._validation_problems(root, ctx, found))
        return out

    def _read(self, source: Any, source_name: str) -> Any:
        if self.source_kind == "xml":
            if isinstance(source, (bytes, bytearray, memoryview)):
                try:
                    return parse_xml(bytes(source), source=source_name)
                except UnsafeOrMalformedXml as exc:
                    raise InvalidXmlSource(str(exc)) from None
            if isinstance(source, etree._ElementTree):
                return source.getroot()
            if isinstance(source, etree._Element):
                return source
            raise InvalidSource(f"{source_name}: an XML mapping needs bytes or an lxml element")
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

    # -- helpers ---------------------------------------------------------------------------------------
    def error(self, where: tuple[str | int, ...], message: str) -> MappingConfigError:
        return MappingConfigError(self.file, location(list(where)), message)

    def _path(self, kind: str, expr: str, where: tuple[str | int, ...]) -> Any:
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
        if "const" in spec or "path" in spec or "context" in spec:
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
        rule_t, src_t = scope.rule, item_source

        def append(node: Any, run: _Run, out: list[Any]) -> None:
            loc = run.loc
            # Items are numbered as if none failed, so the 2nd File stays attachments[1] in problems even
            # when the 1st one had a problem of its own.
            index = len(out)
            for pos, match in enumerate(select(node, run), 1):
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
        structural = any(n in converters.STRUCTURAL for n in names)
        if structural and names[0] not in converters.STRUCTURAL:
            self._raise((*where, "convert"), "a structural converter (attachment) must come first")
        if "map" in spec:
            steps.append(self._value_map(spec["map"], (*where, "map")))
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
        else:
            exprs = spec["path"] if isinstance(spec["path"], list) else [spec["path"]]
            kind = "node" if structural else "text"
            getters = [(self._path(kind, e, (*where, "path")), self._join(scope.source, e)) for e in exprs]
        all_sources = " | ".join(s for _, s in getters if s)
        has_default = "default" in spec
        required = bool(spec.get("required", False))

        if self.trace:
            return self._guard(self._traced_value(getters, steps, spec.get("default"), scope), *conditions)
        if len(getters) == 1 and not steps and not has_default and not required:
            # The common case, a plain optional text field: the getter itself is the node (no wrapper call).
            return self._guard(getters[0][0], *conditions)

        convert = tuple(steps)
        default = _fresh(spec.get("default"))
        rule_t = scope.rule
        sources = tuple(getters)

        def finish(value: Any, source_t: str, run: _Run) -> Any:
            if value is not None:
                try:
                    for step in convert:
                        value = step(value, run)
                except ConversionError as exc:
                    run.problems.append((rule_t, source_t, run.loc, str(exc)))
                    return None
                if value is not None and value != "":
                    return value
            if has_default:
                return default()
            if required:
                run.problems.append((rule_t, all_sources, run.loc, "required value is missing or empty"))
            return None

        if len(sources) == 1:
            get, source_t = sources[0]

            def build_one(node: Any, run: _Run) -> Any:
                return finish(get(node, run), source_t, run)

            return self._guard(build_one, *conditions)

        def build_first(node: Any, run: _Run) -> Any:
            for get, source_t in sources:
                value = get(node, run)
                if value is not None:
                    return finish(value, source_t, run)
            return finish(None, all_sources, run)

        return self._guard(build_first, *conditions)

    @staticmethod
    def _traced_value(getters: list[tuple[Any, str]], steps: list[Any], default: Any, scope: _Scope) -> Node:
        """The tracing twin of a value: the same result, plus which source produced it."""
        rule_t = scope.rule

        def record(node: Any, run: _Run) -> Any:
            for get, source_t in getters:
                value = get(node, run)
                if value is None:
                    continue
                try:
                    for step in steps:
                        value = step(value, run)
                except ConversionError:
                    return None
                if run.trace is not None:
                    rule, source = _names(rule_t, source_t, run.loc)
                    run.trace[rule] = source
                return value
            return _copy(default)

        return record

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

    def _value_map(self, name: str, where: tuple[str | int, ...]) -> converters.Converter:
        if name not in self.value_maps:
            self._raise(where, f"unknown value map {name!r}")
        table = dict(self.value_maps[name]["values"])
        has_default = "default" in self.value_maps[name]
        default = self.value_maps[name].get("default")
        message = f"value is not a code in value map {name!r}, which has no default"

        def lookup(value: Any, run: _Run) -> Any:
            try:
                return table[value]
            except (KeyError, TypeError):
                if has_default:
                    return default
                raise ConversionError(message) from None

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

    def compile(self) -> CompiledMapping:
        if self.kind == "json" and self.spec.doc.get("namespaces"):
            self._raise(("namespaces",), "`namespaces` applies to XML sources only")
        build = self.output()
        root_tag, root_name = self.root_tag()
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
        )


def compile_mapping(path: Path | str, *, file: str | None = None) -> CompiledMapping:
    """Load, schema-check and compile one mapping file. Raises ``MappingConfigError``.

    ``file`` is the name used in every error (default: the path as given).
    """
    path = Path(path)
    return _Compiler(load_spec(path, file)).compile()
