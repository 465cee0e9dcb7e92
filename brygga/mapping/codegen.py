"""Generate one flat Python function per mapping: the fast path of ``CompiledMapping.run``.

The closure compiler (``compiler._Compiler``) builds a tree of small functions, one or more calls per output
field. This module walks the same mapping and writes the same work as the source of one function: dicts
and lists are built in place, simple child paths (``fi:Header/fi:Flow/fi:Name``) are walked inline on the
per-run child index, sharing the walk to each element between the fields that pass through it, and the
empty-value, default and required rules are inlined around the converters. ``compile()`` + ``exec`` run
once per mapping.

Everything the generated code does not spell out itself is done by the very objects the closure compiler
makes (path getters, converters, conditions, value maps, whole nodes such as ``first_of``), bound to the
function as closure variables, so there is one implementation of each piece of the language. The problems
a run reports (rule, source path, list positions, message) are the same tuples as the closure compiler's;
the tracing run that names the sources of output-schema problems keeps using the closure compiler.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lxml import etree

from brygga.mapping import converters
from brygga.mapping.errors import ConversionError
from brygga.mapping.paths import _child_index, _text_of

if TYPE_CHECKING:
    from brygga.mapping.compiler import Node, _Compiler, _Scope

_LITERAL_TYPES = (str, int, bool, type(None))


def _literal(value: Any) -> str | None:
    """Python source that builds a fresh copy of ``value``, or None when a literal would not be exact."""
    if isinstance(value, _LITERAL_TYPES):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, list):
        parts = [_literal(v) for v in value]
        return None if any(p is None for p in parts) else "[" + "".join(f"{p}, " for p in parts) + "]"
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if not isinstance(key, str):
                return None
            lit = _literal(item)
            if lit is None:
                return None
            items.append(f"{key!r}: {lit}")
        return "{" + ", ".join(items) + "}"
    return None


class _Gen:
    """Writes the source of ``build(node, run)`` for one compiled mapping."""

    def __init__(self, compiler: _Compiler) -> None:
        self.c = compiler
        self.xml = compiler.kind == "xml"
        self.lines: list[str] = []
        self.consts: dict[int, str] = {}
        self.values: dict[str, Any] = {}
        self.counter = 0

    # -- plumbing --------------------------------------------------------------------------------------
    def k(self, obj: Any) -> str:
        """The name of a closure variable bound to ``obj``."""
        name = self.consts.get(id(obj))
        if name is None or self.values[name] is not obj:
            name = f"_k{len(self.values)}"
            self.consts[id(obj)] = name
            self.values[name] = obj
        return name

    def var(self, prefix: str = "v") -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def emit(self, ind: int, line: str) -> None:
        self.lines.append("    " * ind + line)

    def fresh_expr(self, value: Any) -> str:
        """An expression that gives a fresh copy of a constant, as ``_fresh``/``_copy`` do."""
        lit = _literal(value)
        if lit is not None:
            return lit
        if isinstance(value, (dict, list)):
            return f"_copy({self.k(value)})"
        return self.k(value)

    def call(self, fn: Node, nv: str, ind: int) -> str:
        r = self.var("r")
        self.emit(ind, f"{r} = {self.k(fn)}({nv}, run)")
        return r

    def guard(self, cond: tuple[Any, Any], nv: str, ind: int) -> str | None:
        """Emit the `if` of a node's `when`/`unless`; None when it has neither."""
        when, unless = cond
        tests = []
        if when is not None:
            tests.append(f"{self.k(when)}({nv}, run)")
        if unless is not None:
            tests.append(f"not {self.k(unless)}({nv}, run)")
        return " and ".join(tests) if tests else None

    # -- paths -----------------------------------------------------------------------------------------
    def element(self, nv: str, tags: tuple[str, ...], ind: int, cse: dict[Any, str]) -> str:
        """A variable holding the first-child walk along ``tags`` from ``nv`` (None on a miss)."""
        parent = nv
        for i in range(1, len(tags) + 1):
            key = (nv, tags[:i])
            if key in cse:
                parent = cse[key]
                continue
            ix_key = (nv, tags[: i - 1], "index")
            ix = cse.get(ix_key)
            e = self.var("e")
            may_be_none = i > 1
            if ix is None:
                ix = self.var("x")
                if may_be_none:
                    self.emit(ind, f"if {parent} is None:")
                    self.emit(ind + 1, f"{e} = None")
                    self.emit(ind, "else:")
                    self.emit(ind + 1, f"{ix} = _ch.get({parent})")
                    self.emit(ind + 1, f"if {ix} is None:")
                    self.emit(ind + 2, f"{ix} = _ch[{parent}] = _ci({parent})")
                    self.emit(ind + 1, f"{e} = {ix}.get({tags[i - 1]!r})")
                else:
                    self.emit(ind, f"{ix} = _ch.get({parent})")
                    self.emit(ind, f"if {ix} is None:")
                    self.emit(ind + 1, f"{ix} = _ch[{parent}] = _ci({parent})")
                    self.emit(ind, f"{e} = {ix}.get({tags[i - 1]!r})")
                cse[ix_key] = ix  # defined exactly when `parent` is not None
            elif may_be_none:
                self.emit(ind, f"{e} = None if {parent} is None else {ix}.get({tags[i - 1]!r})")
            else:
                self.emit(ind, f"{e} = {ix}.get({tags[i - 1]!r})")
            cse[key] = e
            parent = e
        return parent

    def getter(self, kind: str, expr: str, where: tuple[Any, ...], nv: str, ind: int,
               cse: dict[Any, str]) -> tuple[str, bool]:
        """Emit the code of one path getter into a new variable: (variable, whether it was a plain call)."""
        get = self.c._path(kind, expr, where)
        v = self.var()
        if self.xml:
            if expr == ".":
                self.emit(ind, f"{v} = {nv}" if kind == "node" else f"{v} = _text_of({nv})")
                return v, False
            tags = self.c.paths._simple(expr) if kind == "text" else None
            if tags is not None:
                e = self.element(nv, tags, ind, cse)
                self.emit(ind, f"if {e} is None:")
                # A miss: the getter itself decides whether a repeated step hides a match (see paths.py).
                self.emit(ind + 1, f"{v} = None" if len(tags) == 1 else f"{v} = {self.k(get)}({nv}, run)")
                self.emit(ind, "else:")
                t = self.var("t")
                self.emit(ind + 1, f"{t} = {e}.text if len({e}) == 0 else ''.join({e}.itertext())")
                self.emit(ind + 1, f"{v} = ({t}.strip() or None) if {t} is not None else None")
                return v, False
        self.emit(ind, f"{v} = {self.k(get)}({nv}, run)")
        return v, True

    # -- nodes -----------------------------------------------------------------------------------------
    def node(self, spec: dict[str, Any], scope: _Scope, nv: str, ind: int, cse: dict[Any, str]) -> str | None:
        """Emit one output node; returns the variable holding its value (None: the value is always None)."""
        from brygga.mapping.compiler import VALUE_SOURCES, _Scope

        if "each" in spec:
            depth = scope.depth
            out = self.var("l")
            self.emit(ind, f"{out} = []")
            self.each_into(spec, _Scope(f"{scope.rule}[{{{depth}}}]", scope.source, depth + 1, scope.where),
                           nv, out, ind, cse)
            r = self.var("r")
            self.emit(ind, f"{r} = {out} or None")
            return r
        if "items" in spec:
            return self.items(spec, scope, nv, ind, cse)
        if any(key in spec for key in VALUE_SOURCES):
            return self.value(spec, scope, nv, ind, cse)
        if "fields" in spec:
            cond = self.guard(self.c._conditions(spec, scope), nv, ind)
            inner = _Scope(scope.rule, scope.source, scope.depth, (*scope.where, "fields"))
            if cond is None:
                return self.fields(spec["fields"], inner, nv, ind, cse)
            r = self.var("r")
            self.emit(ind, f"{r} = None")
            self.emit(ind, f"if {cond}:")
            got = self.fields(spec["fields"], inner, nv, ind + 1, dict(cse))
            self.emit(ind + 1, f"{r} = {got}")
            return r
        return self.fields(spec, scope, nv, ind, cse)

    def fields(self, spec: dict[str, Any], scope: _Scope, nv: str, ind: int, cse: dict[Any, str]) -> str:
        from brygga.mapping.compiler import _esc, _Scope

        d = self.var("d")
        self.emit(ind, f"{d} = {{}}")
        for name, child in spec.items():
            rule = f"{scope.rule}.{_esc(name)}" if scope.rule else _esc(name)
            got = self.node(child, _Scope(rule, scope.source, scope.depth, (*scope.where, name)), nv, ind, cse)
            if got is None:
                continue
            if got.startswith("="):  # a constant that is never None
                self.emit(ind, f"{d}[{name!r}] = {got[1:]}")
            else:
                self.emit(ind, f"if {got} is not None:")
                self.emit(ind + 1, f"{d}[{name!r}] = {got}")
        r = self.var("r")
        self.emit(ind, f"{r} = {d} or None")
        return r

    def items(self, spec: dict[str, Any], scope: _Scope, nv: str, ind: int, cse: dict[Any, str]) -> str:
        from brygga.mapping.compiler import _Scope

        if not all(isinstance(child, dict) and "each" in child for child in spec["items"]):
            # Entries that are single values keep the closure compiler's bookkeeping of list positions.
            return self.call(self.c.items(spec, scope), nv, ind)
        depth = scope.depth
        cond = self.guard(self.c._conditions(spec, scope), nv, ind)
        r = self.var("r")
        body = ind
        if cond is not None:
            self.emit(ind, f"{r} = None")
            self.emit(ind, f"if {cond}:")
            body, cse = ind + 1, dict(cse)
        out = self.var("l")
        self.emit(body, f"{out} = []")
        for i, child in enumerate(spec["items"]):
            child_scope = _Scope(f"{scope.rule}[{{{depth}}}]", scope.source, depth + 1, (*scope.where, "items", i))
            self.each_into(child, child_scope, nv, out, body, cse)
        self.emit(body, f"{r} = {out} or None")
        return r

    def each_into(self, spec: dict[str, Any], scope: _Scope, nv: str, out: str, ind: int,
                  cse: dict[Any, str]) -> None:
        """The inline twin of ``_Compiler.each_into``: append one item per match to the list ``out``."""
        from brygga.mapping.compiler import _Scope

        c = self.c
        where = (*scope.where, "each")
        select = c._path("nodes", spec["each"], where)
        position = scope.depth - 1
        item_source = f"{c._join(scope.source, spec['each'])}[{{{position}}}]"
        when, unless = c._conditions(spec, scope)
        first_position = 1 if self.xml else 0
        rule_k, src_k = self.k(scope.rule), self.k(item_source)
        loc, idx, pos, m = self.var("loc"), self.var("i"), self.var("p"), self.var("m")
        self.emit(ind, f"{loc} = run.loc")
        self.emit(ind, f"{idx} = len({out})")
        self.emit(ind, f"for {pos}, {m} in enumerate({self.k(select)}({nv}, run), {first_position}):")
        body = ind + 1
        if self.xml:
            self.emit(body, f"if not isinstance({m}, _Element):")
            self.emit(body + 1, f"run.problems.append(({rule_k}, {src_k}, (*{loc}, ({idx}, {pos})), "
                                f"'`each` must select elements, not text or attributes'))")
            self.emit(body + 1, "continue")
        if when is not None:
            self.emit(body, f"if not {self.k(when)}({m}, run):")
            self.emit(body + 1, "continue")
        if unless is not None:
            self.emit(body, f"if {self.k(unless)}({m}, run):")
            self.emit(body + 1, "continue")
        self.emit(body, f"run.loc = (*{loc}, ({idx}, {pos}))")
        inner_cse = dict(cse)
        if "fields" in spec:
            got = self.fields(spec["fields"], _Scope(scope.rule, item_source, scope.depth, (*scope.where, "fields")),
                              m, body, inner_cse)
        else:
            got = self.value(spec["value"], _Scope(scope.rule, item_source, scope.depth, (*scope.where, "value")),
                             m, body, inner_cse)
        if got is not None:
            if got.startswith("="):
                self.emit(body, f"{out}.append({got[1:]})")
            else:
                self.emit(body, f"if {got} is not None:")
                self.emit(body + 1, f"{out}.append({got})")
        self.emit(body, f"{idx} += 1")
        self.emit(ind, f"run.loc = {loc}")

    def value(self, spec: dict[str, Any], scope: _Scope, nv: str, ind: int, cse: dict[Any, str]) -> str | None:
        """The inline twin of ``_Compiler.value`` (and of its ``build_one``); anything else is called."""
        c = self.c
        where = scope.where
        names = spec.get("convert", [])
        names = [names] if isinstance(names, str) else list(names)
        structural = any(n in converters.STRUCTURAL for n in names)
        if (
            "first_of" in spec
            or ("path" in spec and isinstance(spec["path"], list) and len(spec["path"]) > 1
                and (names or "extract" in spec or "map" in spec))
        ):
            return self.call(c.value(spec, scope), nv, ind)
        steps = [c._converter(n, (*where, "convert")) for n in names]
        if "extract" in spec:
            steps.append(c._extract(spec["extract"], (*where, "extract")))
        if "map" in spec:
            steps.append(c._value_map(spec["map"], (*where, "map")))
        cond = self.guard(c._conditions(spec, scope), nv, ind)
        if cond is not None:
            r = self.var("r")
            self.emit(ind, f"{r} = None")
            self.emit(ind, f"if {cond}:")
            got = self._value(spec, scope, steps, structural, nv, ind + 1, dict(cse))
            if got is not None:
                self.emit(ind + 1, f"{r} = {got[1:] if got.startswith('=') else got}")
            return r
        return self._value(spec, scope, steps, structural, nv, ind, cse)

    def _value(self, spec: dict[str, Any], scope: _Scope, steps: list[Any], structural: bool, nv: str, ind: int,
               cse: dict[Any, str]) -> str | None:
        from brygga.mapping.compiler import _esc

        c = self.c
        where = scope.where
        if "const" in spec and not steps:
            if spec["const"] is None:
                return None
            return "=" + self.fresh_expr(spec["const"])

        has_default = "default" in spec
        required = bool(spec.get("required", False))
        may_raise = bool(steps) or "template" in spec
        if "path" in spec:
            exprs = spec["path"] if isinstance(spec["path"], list) else [spec["path"]]
            kind = "node" if structural else "text"
            sources = [c._join(scope.source, e) for e in exprs]
            v, _ = self.getter(kind, exprs[0], (*where, "path"), nv, ind, cse)
            inner, inner_cse = ind, cse
            for expr in exprs[1:]:
                self.emit(inner, f"if {v} is None:")
                inner, inner_cse = inner + 1, dict(inner_cse)
                w, _ = self.getter(kind, expr, (*where, "path"), nv, inner, inner_cse)
                self.emit(inner, f"{v} = {w}")
            source = sources[0]
            all_sources = " | ".join(s for s in sources if s)
        else:
            if "const" in spec:
                get_expr = self.fresh_expr(spec["const"])
                source = ""
            elif "context" in spec:
                get_expr = f"{self.k(c._context_getter(spec['context']))}({nv}, run)"
                source = f"context:{_esc(spec['context'])}"
            elif "template" in spec:
                get, source = c._template_getter(spec["template"], scope, (*where, "template"))
                get_expr = f"{self.k(get)}({nv}, run)"
            else:  # position
                get_expr = f"{self.k(c._position_getter(spec['position'], scope, (*where, 'position')))}({nv}, run)"
                source = ""
            all_sources = source
            v = self.var()
            if may_raise:
                self.emit(ind, "try:")
                self.emit(ind + 1, f"{v} = {get_expr}")
                self.emit(ind, f"except _ConversionError as exc:")
                self.emit(ind + 1, f"run.problems.append(({self.k(scope.rule)}, {self.k(source)}, run.loc, str(exc)))")
                self.emit(ind + 1, f"{v} = _FAILED")
            else:
                self.emit(ind, f"{v} = {get_expr}")
            exprs = [None]

        if len(exprs) == 1 and not steps and not has_default and not required and "template" not in spec:
            return v  # the closure compiler returns the getter's value as it is, here too

        r = self.var("r")
        if steps:
            # `v` is _FAILED only after a template problem, which `try` below must not convert.
            self.emit(ind, "try:")
            self.emit(ind + 1, f"if {v} is not None and {v} is not _FAILED:")
            depth = ind + 2
            for i, step in enumerate(steps):
                self.emit(depth, f"{v} = {self.k(step)}({v}, run)")
                if i < len(steps) - 1:
                    self.emit(depth, f"if {v} is not None:")
                    depth += 1
            self.emit(ind, "except _ConversionError as exc:")
            self.emit(ind + 1, f"run.problems.append(({self.k(scope.rule)}, {self.k(source)}, run.loc, str(exc)))")
            self.emit(ind + 1, f"{v} = _FAILED")
        self.emit(ind, f"if {v} is _FAILED:" if may_raise else "if False:")
        self.emit(ind + 1, f"{r} = None")
        self.emit(ind, f"elif {v} is not None and {v} != '':")
        self.emit(ind + 1, f"{r} = {v}")
        self.emit(ind, "else:")
        if has_default:
            self.emit(ind + 1, f"{r} = {self.fresh_expr(spec.get('default'))}")
        else:
            if required:
                self.emit(ind + 1, f"run.problems.append(({self.k(scope.rule)}, {self.k(all_sources)}, run.loc, "
                                   f"'required value is missing or empty'))")
            self.emit(ind + 1, f"{r} = None")
        return r

    # -- the whole mapping -----------------------------------------------------------------------------
    def build(self) -> Node:
        from brygga.mapping.compiler import _copy, _Scope

        body_start = len(self.lines)
        got = self.fields(self.c.spec.doc["output"], _Scope("", "", 0, ("output",)), "n0", 2, {})
        body = self.lines[body_start:]
        fixed = {
            "_ConversionError": ConversionError,
            "_Element": etree._Element,
            "_copy": _copy,
            "_ci": _child_index,
            "_text_of": _text_of,
            "_FAILED": object(),
        }
        params = [*fixed, *self.values]
        source = "\n".join([
            f"def _factory({', '.join(params)}):",
            "    def build(n0, run):",
            "        _ch = run.children",
            *body,
            f"        return {got}",
            "    return build",
            "",
        ])
        namespace: dict[str, Any] = {}
        exec(compile(source, f"<brygga mapping {self.c.file}>", "exec"), namespace)  # noqa: S102 - our own source
        fn = namespace["_factory"](*fixed.values(), *self.values.values())
        fn.__brygga_source__ = source
        return fn


def generate(compiler: _Compiler) -> Node:
    """One flat function doing what ``compiler.output()`` does."""
    return _Gen(compiler).build()
