"""The fast XML path readers (child index walk, structural paths) must answer exactly as lxml's XPath does."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from lxml import etree

from brygga.canonical.serialize import dumps_case, loads_case
from brygga.mapping.paths import XmlPaths

NS = "urn:x"
NAMESPACES = {"x": NS}

DOCS = [
    # repeated step elements whose first occurrence lacks the rest of the path; mixed content; comments
    f"""<r xmlns="{NS}"><a><b><c> one </c></b><b><d>2</d></b><b><d>3</d><c>c3</c></b></a>
    <a><e/><!-- c --><!-- c --><b><c>later</c></b></a><f>t<g>u</g>v</f><h>  </h>
    <q><Org>1</Org><n>org</n></q><p><n>p</n></p><q><n>no org</n></q></r>""",
    # no repeats at all, one element without namespace
    f"""<r xmlns="{NS}"><Head><Flow><Name>n</Name></Flow><Id>7</Id></Head>
    <Values><s><First>a</First><Last>b</Last></s><o><OrganizationNumber>1</OrganizationNumber></o>
    <files><File><Id>1</Id></File><File><Id>2</Id><File><Id>nested</Id></File></File></files></Values>
    <plain xmlns=""><k>v</k></plain></r>""",
    # every question once, none with an organisation number
    f"""<r xmlns="{NS}"><Values><s><First>a</First></s><t><Value>v</Value></t></Values></r>""",
]

EXPRESSIONS = [
    # simple
    "x:a", "x:a/x:b", "x:a/x:b/x:c", "x:a/x:b/x:d", "x:f", "x:h", "x:Head/x:Flow/x:Name", "x:Values/x:s/x:Last",
    "x:plain/k", "plain/k", "x:missing", "x:a/x:missing/x:c", "x:Values/x:files/x:File", "x:Values/x:files/x:File/x:Id",
    # structural
    "*", "x:a/*", "x:Values/*[x:OrganizationNumber]", "x:Values/x:s[x:First or x:Last]", "x:Values/x:s[x:Nope]",
    "../*[x:OrganizationNumber]", "../*[x:Org]", "..", ".", "./x:b", "../x:a/x:b", "x:a[x:b/x:c]", "x:a[x:e]/x:b",
    "x:Values//x:File", "x:Values//x:Id", "x:a//x:c", "x:q[x:Org][x:n]", "x:q[x:n]", "*[x:b]", "*[x:b]/x:b",
    "x:Values/*[x:OrganizationNumber or x:First]/*", "x:files//x:File[x:Id]",
]


def _contexts(root: etree._Element) -> list[etree._Element]:
    return [root, *root.iter(etree.Element)]


def _run() -> SimpleNamespace:
    return SimpleNamespace(children={}, memo={})


@pytest.mark.parametrize("doc", range(len(DOCS)))
@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_fast_paths_answer_as_the_xpath_engine(doc: int, expr: str) -> None:
    root = etree.fromstring(DOCS[doc])
    paths = XmlPaths(NAMESPACES)
    text, node, nodes, test = paths.text(expr), paths.node(expr), paths.nodes(expr), paths.test(expr)
    xpath = etree.XPath(expr, namespaces=NAMESPACES)
    string = etree.XPath(f"string({expr})", namespaces=NAMESPACES)
    boolean = etree.XPath(f"boolean({expr})", namespaces=NAMESPACES)
    for context in _contexts(root):
        expected = xpath(context)
        # a fresh run and a shared one (index and memo already filled by the other getters) must agree
        for run in (_run(), shared := _run(), shared):
            assert nodes(context, run) == expected, (expr, context.tag)
            assert node(context, run) is (expected[0] if expected else None), (expr, context.tag)
            assert text(context, run) == (string(context).strip() or None), (expr, context.tag)
            assert test(context, run) == boolean(context), (expr, context.tag)


def test_structural_paths_are_used_for_the_bygglov_conditions() -> None:
    # Not only correct but fast: these shapes must not fall back to lxml's XPath engine.
    paths = XmlPaths({"fi": "urn:fi"})
    for expr in ("../*[fi:OrganizationNumber]", "fi:Values/*[fi:OrganizationNumber]",
                 "fi:Values/fi:sokande[fi:Firstname or fi:Lastname]", "fi:Values//fi:File"):
        assert paths._structural(expr) is not None, expr
    for expr in ("fi:A[1]", "fi:A[@id]", "//fi:A", "/fi:A", "fi:A | fi:B", "fi:A[or]", "concat(fi:A, 'x')", "@code"):
        assert paths._structural(expr) is None, expr


def test_dumps_case_is_compact_utf8_and_round_trips() -> None:
    case = {"tenant": {"name": "Örebro kommun"}, "details": {"area": 128.5, "n": 150}, "flags": [True, None]}
    data = dumps_case(case)
    assert data == '{"tenant":{"name":"Örebro kommun"},"details":{"area":128.5,"n":150},"flags":[true,null]}'.encode()
    assert loads_case(data) == case == loads_case(data.decode())


@pytest.mark.parametrize("bad", [{"when": __import__("datetime").date(2026, 1, 1)}, {1: "x"}, {"n": 2**70}])
def test_dumps_case_refuses_what_is_not_json_data(bad: dict) -> None:
    with pytest.raises(TypeError):
        dumps_case(bad)


@pytest.mark.parametrize("bad", [b"[1]", b"{", "not json"])
def test_loads_case_refuses_what_is_not_a_case(bad: bytes | str) -> None:
    with pytest.raises(ValueError):
        loads_case(bad)
