"""Source paths, compiled once into small getter functions.

XML paths are XPath 1.0 with the prefixes the mapping declares; each one is compiled into an
``lxml.etree.XPath`` object at load time. A compiled XPath still costs 2-5 µs a call (``findtext`` is worse,
ElementPath is pure Python in lxml), and a form has dozens of fields, so two kinds of path are read without
the XPath engine, with the same result:

- a *simple* path, only ``prefix:name`` steps like ``fi:Header/fi:Posted``, walks a per-run index of each
  visited element's children (built once per element and run: one pass over its children, reading each
  ``tag`` once, which is most of the cost of touching an element in lxml). It returns exactly what the XPath
  would (the first match in document order), falling back to the XPath in the one case a first-child walk
  could miss: a repeated step element whose first occurrence lacks the rest of the path;
- a *structural* path: child steps ``prefix:name``, ``*``, ``.`` and ``..``, a ``//`` before a named step,
  and predicates that test for simple paths (``fi:Values/*[fi:OrganizationNumber]``,
  ``../*[fi:A or fi:B]``), evaluated on the same index. Whenever a step other than the last has several
  candidates (where XPath would merge node sets), or ``..`` leaves the document element, it hands the
  expression to the XPath engine instead; so it only ever answers where the answer is plainly the same.

JSON paths are a deliberately tiny syntax: ``a.b[0].c``, ``['key with spaces']``, ``.`` for the current
item, and a leading ``$`` for the document root. No filters or wildcards: they stay readable and fast.

Every getter has the signature ``get(node, run) -> value | None`` (``run.root`` is the document, for
``$`` paths; ``run.children`` the per-run child index of XML elements, ``run.memo`` the per-run results of
structural paths); ``None`` means "nothing there"
(missing, or empty after stripping XML text).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from lxml import etree

Getter = Callable[[Any, Any], Any]
Test = Callable[[Any, Any], bool]

# An empty element to trial-run each XPath on at compile time: lxml reports an undeclared prefix or an
# unknown function only on evaluation, and those are mapping-file errors, not run-time problems.
_PROBE = etree.Element("probe")


class PathError(ValueError):
    """A path in the mapping file cannot be compiled. The compiler adds the file and rule."""


_NAME = r"[A-Za-z_][A-Za-z0-9_.-]*"
_SIMPLE_STEP = re.compile(rf"(?:({_NAME}):)?({_NAME})")
# XPath operator names: a step or predicate using one as an element name is left to the XPath engine.
_OPERATOR_NAMES = frozenset({"and", "or", "div", "mod"})
_QNAME = rf"(?:{_NAME}:)?{_NAME}"
_STRUCT_STEP = re.compile(rf"(\.\.|\.|\*|{_QNAME})((?:\[[^\[\]]*\])*)")
_PREDICATE = re.compile(rf"\[\s*({_QNAME}(?:/{_QNAME})*(?:\s+or\s+{_QNAME}(?:/{_QNAME})*)*)\s*\]")
_OR = re.compile(r"\s+or\s+")
def _child_index(node: Any) -> dict[Any, Any]:
    """One pass over an element's children: Clark tag -> the first child with that tag.

    Built back to front so that the first child in document order wins. ``len(index) != len(node)`` says
    that some tag occurs more than once (or that there are several comments or processing instructions):
    only then do the callers look closer, see ``_repeated``.
    """
    return {child.tag: child for child in node[::-1]}


def child_walk(cache: dict[Any, Any], node: Any, tags: Sequence[str]) -> Any:
    """Follow child steps by tag (the first child with each tag), building the per-run child index ``cache`` as it
    goes; None when a step finds nothing."""
    for tag in tags:
        index = cache.get(node)
        if index is None:
            index = cache[node] = _child_index(node)
        node = index.get(tag)
        if node is None:
            return None
    return node


def _index(node: Any, run: Any) -> dict[Any, Any]:
    cache = run.children
    index = cache.get(node)
    if index is None:
        index = cache[node] = _child_index(node)
    return index


def _repeated(node: Any, index: dict[Any, Any], tag: str) -> bool:
    """Whether ``node`` has more than one child element with ``tag`` (``index`` is its child index)."""
    if len(index) == len(node):
        return False
    siblings = node.iterchildren(tag)
    next(siblings, None)
    return next(siblings, None) is not None


def _text_of(element: Any) -> str | None:
    # XPath string(): all descendant text. A leaf (the usual case) needs no itertext() join.
    text = element.text if len(element) == 0 else "".join(element.itertext())
    return (text.strip() or None) if text is not None else None


def _is_leaf(element: Any) -> bool:
    """No element children (comments and processing instructions do not count): its text is all its text."""
    return len(element) == 0 or not any(isinstance(child.tag, str) for child in element)


def _claim_leaf(element: Any, run: Any) -> str | None:
    """The text of ``element``; a leaf also goes into the run's claim log (see ``XmlPaths.claiming_text``)."""
    if _is_leaf(element):
        run.claimed.append(element)
    return _text_of(element)


def _first_walker(tags: tuple[str, ...], fallback: etree.XPath) -> tuple[Getter, Getter, Getter]:
    """(first element, its stripped text, its text claimed) along ``tags`` (child steps), as the XPath finds them;
    None if none. The third is ``_claim_leaf`` of the element (see ``XmlPaths.claiming_text``).

    The hot loop of the engine, hence the versions with the child-index walk inlined. (The text is
    ``_text_of``: inlining that too saves about 20 ns a read, under the noise of a whole submission.)
    """

    def missed(node: Any, run: Any) -> Any:
        # The fast walk found no match. It is the answer unless a step before the miss had several candidates
        # (a/b/c where the first b has no c but a later b does): only the XPath sees that one.
        cache = run.children
        current = node
        for tag in tags:
            index = cache[current]  # the fast walk indexed every element up to the miss
            following = index.get(tag)
            if following is None:
                return None
            if _repeated(current, index, tag):
                matches = fallback(node)
                return matches[0] if matches else None
            current = following
        return None  # not reached: the fast walk missed somewhere along tags

    if len(tags) == 1:
        (only,) = tags

        def walk1(node: Any, run: Any) -> Any:
            cache = run.children
            index = cache.get(node)
            if index is None:
                index = cache[node] = _child_index(node)
            return index.get(only)

        def text1(node: Any, run: Any) -> str | None:
            cache = run.children
            index = cache.get(node)
            if index is None:
                index = cache[node] = _child_index(node)
            element = index.get(only)
            return _text_of(element) if element is not None else None

        def claim1(node: Any, run: Any) -> str | None:
            cache = run.children
            index = cache.get(node)
            if index is None:
                index = cache[node] = _child_index(node)
            element = index.get(only)
            if element is None:
                return None
            if len(element):
                return _claim_leaf(element, run)
            run.claimed.append(element)  # no children at all (the usual case): a leaf, and its text is the value
            text = element.text
            return (text.strip() or None) if text is not None else None

        return walk1, text1, claim1

    def walk(node: Any, run: Any) -> Any:
        cache = run.children
        element = node
        for tag in tags:
            index = cache.get(element)
            if index is None:
                index = cache[element] = _child_index(element)
            element = index.get(tag)
            if element is None:
                return missed(node, run)
        return element

    def text(node: Any, run: Any) -> str | None:
        cache = run.children
        element = node
        for tag in tags:
            index = cache.get(element)
            if index is None:
                index = cache[element] = _child_index(element)
            element = index.get(tag)
            if element is None:
                element = missed(node, run)
                if element is None:
                    return None
                break
        return _text_of(element)

    def claim(node: Any, run: Any) -> str | None:
        cache = run.children
        element = node
        for tag in tags:
            index = cache.get(element)
            if index is None:
                index = cache[element] = _child_index(element)
            element = index.get(tag)
            if element is None:
                element = missed(node, run)
                if element is None:
                    return None
                break
        if len(element):
            return _claim_leaf(element, run)
        run.claimed.append(element)  # as in claim1
        text = element.text
        return (text.strip() or None) if text is not None else None

    return walk, text, claim


_FALLBACK = object()  # a structural evaluation that must be left to the XPath engine


class XmlPaths:
    """Compiles XPath strings against one namespace table."""

    def __init__(self, namespaces: dict[str, str]) -> None:
        self.namespaces = dict(namespaces)
        self._evaluators: dict[str, Callable[[Any, Any], Any] | None] = {}
        self._step_tokens: dict[tuple[bool, str, str], object] = {}

    def _compile(self, expr: str) -> etree.XPath:
        try:
            xpath = etree.XPath(expr, namespaces=self.namespaces, smart_strings=False)
            xpath(_PROBE)
        except etree.XPathError as exc:
            raise PathError(f"invalid XPath {expr!r}: {exc}") from None
        return xpath

    def _clark(self, qname: str, *, in_expression: bool = False) -> str | None:
        """The Clark tag of ``prefix:name``; None when it is no plain name or its prefix is not declared."""
        match = _SIMPLE_STEP.fullmatch(qname)
        if match is None:
            return None
        prefix, local = match.groups()
        if in_expression and (local in _OPERATOR_NAMES or prefix in _OPERATOR_NAMES):
            return None  # `or`, `and`, ...: names or operators, depending on XPath's lexer; leave it to XPath
        if prefix is None:
            return local  # XPath 1.0: an unprefixed name is in no namespace
        if prefix in self.namespaces:
            return f"{{{self.namespaces[prefix]}}}{local}"
        return None  # let the XPath compiler report the undeclared prefix

    def _simple(self, expr: str, *, in_expression: bool = False) -> tuple[str, ...] | None:
        """Clark tags for a path of plain ``prefix:name`` steps, else None."""
        tags = []
        for step in expr.split("/"):
            tag = self._clark(step, in_expression=in_expression)
            if tag is None:
                return None
            tags.append(tag)
        return tuple(tags)

    def _walker(self, expr: str, *, in_expression: bool = False) -> Getter | None:
        """The first match of a simple path, or None when ``expr`` is not simple."""
        tags = self._simple(expr, in_expression=in_expression)
        if tags is None:
            return None
        return _first_walker(tags, self._compile(expr))[0]

    def _structural(self, expr: str) -> Callable[[Any, Any], Any] | None:
        """``evaluate(node, run) -> matches in document order | _FALLBACK`` for a structural path, else None.

        One evaluator per expression: the run's memo is keyed by it, so a condition written twice in a mapping
        (``unless: ../*[fi:X]`` here, ``when: ../*[fi:X]`` there) is evaluated once per node and run."""
        if expr not in self._evaluators:
            self._evaluators[expr] = self._parse_structural(expr)
        return self._evaluators[expr]

    def _parse_structural(self, expr: str) -> Callable[[Any, Any], Any] | None:
        steps: list[StepFn] = []
        pos = 0
        while pos < len(expr):
            descendant = False
            if pos:
                if expr.startswith("//", pos):
                    descendant, pos = True, pos + 2
                elif expr.startswith("/", pos):
                    pos += 1
                else:
                    return None
            match = _STRUCT_STEP.match(expr, pos)
            if match is None:
                return None
            name, predicates = match.groups()
            pos = match.end()
            tests: list[tuple[tuple[str, ...], tuple[Getter, ...]]] = []
            for pred in re.finditer(r"\[[^\[\]]*\]", predicates):
                body = _PREDICATE.fullmatch(pred.group(0))
                if body is None:
                    return None
                tags_of: list[str] = []  # one-step alternatives: a lookup in the candidate's child index
                walkers: list[Getter] = []
                for alternative in _OR.split(body.group(1)):
                    tags = self._simple(alternative, in_expression=True)
                    if tags is None:
                        return None
                    if len(tags) == 1:
                        tags_of.append(tags[0])
                    else:
                        walkers.append(_first_walker(tags, self._compile(alternative))[0])
                tests.append((tuple(tags_of), tuple(walkers)))
            if name in (".", ".."):
                if descendant or tests:
                    return None
                steps.append(_self_step if name == "." else _parent_step)
                continue
            if name == "*":
                if descendant:
                    return None
                step = _star_step
            else:
                tag = self._clark(name, in_expression=True)
                if tag is None:
                    return None
                step = _descendant_step(tag) if descendant else _child_step(tag)
            if tests:
                # The same step with the same predicates shares its memo across expressions: ``fi:Values/*[fi:X]``
                # from the root and ``../*[fi:X]`` from a question both filter the children of Values once.
                token = self._step_tokens.setdefault((descendant, name if name == "*" else tag, predicates), object())
                step = _filtered_step(step, tuple(tests), token)
            steps.append(step)
        if not steps:
            return None
        return _structural_evaluator(tuple(steps))

    def text(self, expr: str) -> Getter:
        """The stripped string value of the first match; ``None`` when missing or blank."""
        if expr == ".":
            return lambda node, run: _text_of(node)
        tags = self._simple(expr)
        if tags is not None:
            return _first_walker(tags, self._compile(expr))[1]
        xpath = self._compile(f"string({expr})")
        evaluate = self._structural(expr)
        if evaluate is not None:
            self._compile(expr)  # the structural grammar is a subset of XPath: the XPath engine must agree

            def get_structural(node: Any, run: Any) -> str | None:
                found = evaluate(node, run)
                if found is _FALLBACK:
                    return xpath(node).strip() or None
                return _text_of(found[0]) if found else None

            return get_structural

        def get(node: Any, run: Any) -> str | None:
            return xpath(node).strip() or None

        return get

    def node(self, expr: str) -> Getter:
        """The first matching element itself (for converters that read a structure, like ``attachment``)."""
        if expr == ".":
            return lambda node, run: node
        walk = self._walker(expr)
        if walk is not None:
            return walk
        xpath = self._compile(expr)
        evaluate = self._structural(expr)

        def get(node: Any, run: Any) -> Any:
            if evaluate is not None:
                found = evaluate(node, run)
                if found is not _FALLBACK:
                    return found[0] if found else None
            found = xpath(node)
            if isinstance(found, list):
                return found[0] if found else None
            return found

        return get

    # -- claiming getters: for mappings with `form_answers` (compiler.py), which keep what no rule read -------
    def claiming_text(self, expr: str) -> Getter:
        """``text``, plus: a *leaf* the value came from (an element without element children, whose text is the
        value) is appended to the run's claim log, ``run.claimed``; it is then not an unclaimed form answer. The same
        value as ``text``; only a mapping with ``form_answers`` pays for the bookkeeping.

        Claims nothing: the text of an element with element children (its string value joins all its leaves; they
        stay answers of their own), an expression that gives a string (``concat()``, ``count()``), an attribute.
        A ``text()`` result claims its element when that is a leaf. The value node that asked takes its claims
        back (compiler.py) when it does not use the value: a default, ``unmatched: empty``, a discarded
        ``first_of`` alternative."""
        if expr == ".":

            def get_self(node: Any, run: Any) -> str | None:
                if _is_leaf(node):
                    run.claimed.append(node)
                return _text_of(node)

            return get_self
        tags = self._simple(expr)
        if tags is not None:
            return _first_walker(tags, self._compile(expr))[2]  # the fast child walk, claiming what it reads
        evaluate = self._structural(expr)
        if evaluate is not None:
            self._compile(expr)
        as_string = self._compile(f"string({expr})")
        try:
            # smart strings: a text() result knows its element
            matches = etree.XPath(expr, namespaces=self.namespaces, smart_strings=True)
        except etree.XPathError as exc:
            raise PathError(f"invalid XPath {expr!r}: {exc}") from None

        def get(node: Any, run: Any) -> str | None:
            if evaluate is not None:
                found = evaluate(node, run)
                if found is not _FALLBACK:
                    return _claim_leaf(found[0], run) if found else None
            result = matches(node)
            if not isinstance(result, list):  # a string, number or boolean: XPath's own string() of it
                return as_string(node).strip() or None
            if not result:
                return None
            first = result[0]
            if isinstance(first, etree._Element):
                return _claim_leaf(first, run)
            if isinstance(first, etree._ElementUnicodeResult) and first.is_text:
                owner = first.getparent()  # a text() result: the element whose text it is (a tail has none)
                if owner is not None and _is_leaf(owner):
                    run.claimed.append(owner)
            return str(first).strip() or None

        return get

    def claiming_node(self, expr: str) -> Getter:
        """``node``, plus: the element returned goes into the claim log, with everything under it (a structural
        converter such as ``attachment`` reads the whole element)."""
        if expr == ".":  # `value: {path: ., convert: attachment}` under an `each`: the common case, one call

            def get_self(node: Any, run: Any) -> Any:
                if isinstance(node, etree._Element):
                    run.claimed.append(node)
                return node

            return get_self
        base = self.node(expr)

        def get(node: Any, run: Any) -> Any:
            found = base(node, run)
            if isinstance(found, etree._Element):
                run.claimed.append(found)
            return found

        return get

    def nodes(self, expr: str) -> Callable[[Any, Any], list[Any]]:
        xpath = self._compile(expr)
        evaluate = self._structural(expr)  # a simple path is structural too
        if evaluate is not None:

            def get_structural(node: Any, run: Any) -> list[Any]:
                found = evaluate(node, run)
                return xpath(node) if found is _FALLBACK else found

            return get_structural

        def get(node: Any, run: Any) -> list[Any]:
            found = xpath(node)
            return found if isinstance(found, list) else [found]

        return get

    def test(self, expr: str) -> Test:
        """XPath truth: a non-empty node set, a non-empty string, a non-zero number."""
        walk = self._walker(expr)
        if walk is not None:
            return lambda node, run: walk(node, run) is not None
        xpath = self._compile(f"boolean({expr})")
        evaluate = self._structural(expr)
        if evaluate is not None:
            self._compile(expr)

            def test_structural(node: Any, run: Any) -> bool:
                found = evaluate(node, run)
                return xpath(node) if found is _FALLBACK else bool(found)

            return test_structural
        return lambda node, run: xpath(node)


# One compiled step of a structural path: (context node, run) -> its matches in document order, or _FALLBACK.
StepFn = Callable[[Any, Any], Any]


def _child_step(tag: str) -> StepFn:
    def step(current: Any, run: Any) -> Any:
        cache = run.children
        index = cache.get(current)
        if index is None:
            index = cache[current] = _child_index(current)
        first = index.get(tag)
        if first is None:
            return []
        # Only when some tag repeats among the children can this one have siblings of its name.
        return [first] if len(index) == len(current) else list(current.iterchildren(tag))

    return step


def _descendant_step(tag: str) -> StepFn:
    return lambda current, run: list(current.iterdescendants(tag))


def _star_step(current: Any, run: Any) -> Any:
    index = _index(current, run)
    if len(index) == len(current):  # built back to front: reversed is document order
        return [child for key, child in reversed(index.items()) if isinstance(key, str)]
    return list(current.iterchildren(etree.Element))


def _self_step(current: Any, run: Any) -> Any:
    return [current]


def _parent_step(current: Any, run: Any) -> Any:
    parent = current.getparent()
    if parent is None:
        return _FALLBACK  # XPath's parent of the document element is the root node, not an element
    return [parent]


def _filtered_step(step: StepFn, tests: tuple[tuple[tuple[str, ...], tuple[Getter, ...]], ...],
                   token: object) -> StepFn:
    """``step`` with its predicates, memoized per run and context node under ``token``."""

    def filtered(current: Any, run: Any) -> Any:
        key = (token, current)
        found = run.memo.get(key)
        if found is None:
            found = step(current, run)  # never _FALLBACK: only `..` gives that, and it takes no predicates
            for tags, walkers in tests:
                found = _keep(found, tags, walkers, run)
            run.memo[key] = found
        return found

    return filtered


def _keep(found: list[Any], tags: tuple[str, ...], walkers: tuple[Getter, ...], run: Any) -> list[Any]:
    """The candidates for which one of the predicate's simple paths matches: a one-step path (``tags``) by a lookup
    in the candidate's child index, a longer one by its walker."""
    cache = run.children
    kept = []
    for candidate in found:
        if tags:
            index = cache.get(candidate)
            if index is None:
                index = cache[candidate] = _child_index(candidate)
            if any(tag in index for tag in tags):
                kept.append(candidate)
                continue
        if any(walk(candidate, run) is not None for walk in walkers):
            kept.append(candidate)
    return kept


def _structural_evaluator(steps: tuple[StepFn, ...]) -> Callable[[Any, Any], Any]:
    """Evaluate steps from one context node; every step but the last must leave at most one node."""
    head, last = steps[:-1], steps[-1]

    def memoized(node: Any, run: Any) -> Any:
        # `when`/`unless` conditions like ``../*[fi:X]`` are often asked again about the same node in one run.
        key = (evaluate, node)
        found = run.memo.get(key)
        if found is None:
            found = run.memo[key] = evaluate(node, run)
        return found

    def evaluate(node: Any, run: Any) -> Any:
        current = node
        for step in head:
            found = step(current, run)
            if found is _FALLBACK:
                return _FALLBACK
            if len(found) != 1:
                # none: no match; several nodes to continue from: XPath merges the sets in document order
                return _FALLBACK if found else []
            current = found[0]
        return last(current, run)

    return memoized


_JSON_TOKEN = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_-]*)|\[(-?\d+)\]|\['([^']*)'\]")


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


class JsonPaths:
    """Compiles the tiny JSON path syntax into key/index walks."""

    @staticmethod
    def steps(expr: str) -> tuple[bool, tuple[str | int, ...]]:
        from_root = expr.startswith("$")
        rest = expr[1:] if from_root else expr
        if rest in ("", "."):
            return from_root, ()
        steps: list[str | int] = []
        pos = 0
        while pos < len(rest):
            match = _JSON_TOKEN.match(rest, pos)
            if match is None:
                raise PathError(f"invalid JSON path {expr!r} at character {pos + int(from_root) + 1}")
            name, index, quoted = match.groups()
            steps.append(int(index) if index is not None else (name if name is not None else quoted))
            pos = match.end()
        return from_root, tuple(steps)

    def _walker(self, expr: str) -> Getter:
        from_root, steps = self.steps(expr)

        def get(node: Any, run: Any) -> Any:
            return json_walk(run.root if from_root else node, steps)

        return get

    def text(self, expr: str) -> Getter:
        walk = self._walker(expr)

        def get(node: Any, run: Any) -> Any:
            value = walk(node, run)
            return None if _is_empty(value) else value

        return get

    node = text

    def nodes(self, expr: str) -> Callable[[Any, Any], list[Any]]:
        walk = self._walker(expr)

        def get(node: Any, run: Any) -> list[Any]:
            value = walk(node, run)
            if _is_empty(value):
                return []
            return value if isinstance(value, list) else [value]

        return get

    def test(self, expr: str) -> Test:
        walk = self._walker(expr)

        def test(node: Any, run: Any) -> bool:
            value = walk(node, run)
            return value is not False and not _is_empty(value)

        return test


def json_walk(value: Any, steps: Sequence[str | int]) -> Any:
    """Follow parsed JSON-path steps from ``value``; None where a step finds nothing."""
    for step in steps:
        # Only dicts and lists are containers: a string is indexable too, but "abc"[0] is no field.
        if isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, list) and isinstance(step, int) and -len(value) <= step < len(value):
            value = value[step]
        else:
            return None
    return value
