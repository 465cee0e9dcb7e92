"""Source paths, compiled once into small getter functions.

XML paths are XPath 1.0 with the prefixes the mapping declares; each one is compiled into an
``lxml.etree.XPath`` object at load time. A compiled XPath still costs ~3 µs a call (``findtext`` is worse:
~7 µs, ElementPath is pure Python in lxml), and a form has dozens of fields. So a *simple* path, only
``prefix:name`` steps like ``fi:Header/fi:Posted``, is read by walking a per-run index of each element's
children instead: ~0.3 µs a field. It returns exactly what the XPath would (the first match in document
order), falling back to the XPath in the one case a first-child walk could miss: a repeated step element
whose first occurrence lacks the rest of the path.

JSON paths are a deliberately tiny syntax: ``a.b[0].c``, ``['key with spaces']``, ``.`` for the current
item, and a leading ``$`` for the document root. No filters or wildcards: they stay readable and fast.

Every getter has the signature ``get(node, run) -> value | None`` (``run.root`` is the document, for
``$`` paths); ``None`` means "nothing there" (missing, or empty after stripping XML text).
"""

from __future__ import annotations

import re
from collections.abc import Callable
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


def _child_index(node: Any) -> dict[Any, list[Any]]:
    """The children of one element by tag, in document order."""
    index: dict[Any, list[Any]] = {}
    for child in node:
        tag = child.tag
        found = index.get(tag)
        if found is None:
            index[tag] = [child]
        else:
            found.append(child)
    return index


def _children(node: Any, run: Any) -> dict[Any, list[Any]]:
    cache = run.children
    index = cache.get(node)
    if index is None:
        index = cache[node] = _child_index(node)
    return index


def _descend(tags: tuple[str, ...], node: Any, run: Any) -> tuple[Any, bool]:
    """Follow first children along ``tags``: (element or None, whether a step had several candidates)."""
    ambiguous = False
    for tag in tags:
        found = _children(node, run).get(tag)
        if found is None:
            return None, ambiguous
        if len(found) > 1:
            ambiguous = True
        node = found[0]
    return node, ambiguous


def _text_of(element: Any) -> str | None:
    # XPath string(): all descendant text. A leaf (the usual case) needs no itertext() join.
    text = element.text if len(element) == 0 else "".join(element.itertext())
    return (text.strip() or None) if text is not None else None


class XmlPaths:
    """Compiles XPath strings against one namespace table."""

    def __init__(self, namespaces: dict[str, str]) -> None:
        self.namespaces = dict(namespaces)

    def _compile(self, expr: str) -> etree.XPath:
        try:
            xpath = etree.XPath(expr, namespaces=self.namespaces, smart_strings=False)
            xpath(_PROBE)
        except etree.XPathError as exc:
            raise PathError(f"invalid XPath {expr!r}: {exc}") from None
        return xpath

    def _simple(self, expr: str) -> tuple[str, ...] | None:
        """Clark tags for a path of plain ``prefix:name`` steps, else None."""
        tags = []
        for step in expr.split("/"):
            match = _SIMPLE_STEP.fullmatch(step)
            if match is None:
                return None
            prefix, local = match.groups()
            if prefix is None:
                tags.append(local)  # XPath 1.0: an unprefixed name is in no namespace
            elif prefix in self.namespaces:
                tags.append(f"{{{self.namespaces[prefix]}}}{local}")
            else:
                return None  # let the XPath compiler report the undeclared prefix
        return tuple(tags)

    def _walker(self, expr: str) -> Getter | None:
        """The first match of a simple path, or None when ``expr`` is not simple.

        The hot loop of the engine: the index lookup is inlined rather than calling ``_children``.
        """
        tags = self._simple(expr)
        if tags is None:
            return None
        fallback = self._compile(expr)

        def walk(node: Any, run: Any) -> Any:
            cache = run.children
            ambiguous = False
            current = node
            for tag in tags:
                index = cache.get(current)
                if index is None:
                    index = cache[current] = _child_index(current)
                found = index.get(tag)
                if found is None:
                    if ambiguous:
                        # a/b/c where the first b has no c but a later b does: only the XPath sees that one.
                        matches = fallback(node)
                        return matches[0] if matches else None
                    return None
                if len(found) > 1:
                    ambiguous = True
                current = found[0]
            return current

        return walk

    def text(self, expr: str) -> Getter:
        """The stripped string value of the first match; ``None`` when missing or blank."""
        walk = self._walker(expr)
        if walk is not None:

            def get_simple(node: Any, run: Any) -> str | None:
                element = walk(node, run)
                if element is None:
                    return None
                # XPath string(): all descendant text; a leaf (the usual case) needs no itertext() join.
                text = element.text if len(element) == 0 else "".join(element.itertext())
                return (text.strip() or None) if text is not None else None

            return get_simple
        if expr == ".":
            return lambda node, run: _text_of(node)
        xpath = self._compile(f"string({expr})")

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

        def get(node: Any, run: Any) -> Any:
            found = xpath(node)
            if isinstance(found, list):
                return found[0] if found else None
            return found

        return get

    def nodes(self, expr: str) -> Callable[[Any, Any], list[Any]]:
        xpath = self._compile(expr)
        tags = self._simple(expr)
        if tags is not None:
            parents, last = tags[:-1], tags[-1]

            def get_simple(node: Any, run: Any) -> list[Any]:
                parent, ambiguous = _descend(parents, node, run)
                if ambiguous:
                    return xpath(node)  # matches under several parents: let XPath collect them in order
                if parent is None:
                    return []
                return list(_children(parent, run).get(last, ()))

            return get_simple

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
        return lambda node, run: xpath(node)


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
            value = run.root if from_root else node
            for step in steps:
                # Only dicts and lists are containers: a string is indexable too, but "abc"[0] is no field.
                if isinstance(value, dict):
                    value = value.get(step)
                elif isinstance(value, list) and isinstance(step, int) and -len(value) <= step < len(value):
                    value = value[step]
                else:
                    return None
            return value

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
