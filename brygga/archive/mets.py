"""METS documents of the package: the root METS (E-ARK SIP 2.1) and the representation METS.

The attribute choices follow what eark-validator 1.1.3 accepts (see ../shared/DESIGN.md, "E-ARK validator
1.1.3"); where the validator and the spec disagree, the comment says which one wins and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from brygga.archive.common import (
    CHECKSUM_TYPE,
    CSIP_NS,
    METS_NS,
    SIP_NS,
    SIP_PROFILE,
    XLINK_NS,
    XSI_NS,
    Agent,
    PackageFile,
    xml_bytes,
)

_NSMAP = {None: METS_NS, "csip": CSIP_NS, "sip": SIP_NS, "xlink": XLINK_NS, "xsi": XSI_NS}
# The descriptive metadata is ERMS v3, so the package and its representation are CITS ERMS v3.0 content
# (CSIPVocabularyContentInformationType).
CONTENT_INFORMATION_TYPE = "citserms_v3_0"
# fileGrps outside a representation carry no content information type in the spec, but the validator's CSIP63
# rule can only be met with OTHER + OTHERCONTENTINFORMATIONTYPE, so every fileGrp gets them: NONE for
# documentation and schemas, the real type for representation data.
NO_CONTENT_TYPE = "NONE"
# SIP vocabularies: VocabularyaltrecordIDTYPE and VocabularyRECORDSTATUS.
SUBMISSION_AGREEMENT = "SUBMISSIONAGREEMENT"
PREVIOUS_REFERENCE_CODE = "PREVIOUSREFERENCECODE"
NEW = "NEW"
SUPPLEMENT = "SUPPLEMENT"


@dataclass(frozen=True)
class Header:
    """What the root and the representation METS share, and the package header's references."""

    objid: str
    label: str
    other_type: str  # csip:OTHERTYPE, the content category beside TYPE="Other"
    created: str
    software: tuple[str, str]
    archival_creator: Agent
    submitter: Agent
    record_status: str = NEW  # SUPPLEMENT for a komplettering
    alt_record_ids: Sequence[tuple[str, str]] = ()  # (TYPE, value), root METS only


@dataclass(frozen=True)
class Ref:
    """A file as one METS document points at it: an ID, an href relative to that METS, and its facts."""

    id: str
    href: str
    file: PackageFile


@dataclass(frozen=True)
class FileGroup:
    id: str
    use: str
    refs: Sequence[Ref]
    content_type: str = NO_CONTENT_TYPE


def _m(tag: str) -> str:
    return f"{{{METS_NS}}}{tag}"


def _c(attr: str) -> str:
    return f"{{{CSIP_NS}}}{attr}"


def _x(attr: str) -> str:
    return f"{{{XLINK_NS}}}{attr}"


def _root(header: Header) -> etree._Element:
    root = etree.Element(_m("mets"), nsmap=_NSMAP)
    root.set("OBJID", header.objid)
    root.set("LABEL", header.label)
    # The vocabulary term is "Other" in exactly this case; "OTHER" fails CSIP2.
    root.set("TYPE", "Other")
    root.set(_c("OTHERTYPE"), header.other_type)
    root.set(_c("CONTENTINFORMATIONTYPE"), CONTENT_INFORMATION_TYPE)
    root.set("PROFILE", SIP_PROFILE)
    return root


def _org_agent(hdr: etree._Element, agent: Agent, role: str, other_role: str | None = None) -> None:
    # SIP9-SIP20: an organisation with one note, typed IDENTIFICATIONCODE, holding its identification code (the
    # kommun's organisationsnummer for the ARCHIVIST).
    node = etree.SubElement(hdr, _m("agent"), ROLE=role)
    if other_role:
        node.set("OTHERROLE", other_role)
    node.set("TYPE", "ORGANIZATION")
    etree.SubElement(node, _m("name")).text = agent.name
    note = etree.SubElement(node, _m("note"))
    note.set(_c("NOTETYPE"), "IDENTIFICATIONCODE")
    note.text = agent.identification_code


def _header(root: etree._Element, header: Header) -> None:
    hdr = etree.SubElement(root, _m("metsHdr"), CREATEDATE=header.created, LASTMODDATE=header.created,
                           RECORDSTATUS=header.record_status)
    hdr.set(_c("OAISPACKAGETYPE"), "SIP")
    # Exactly one CREATOR: the software. Its note must be SOFTWARE VERSION (CSIP16), which SIP14 then flags;
    # SIP14 cannot be met by a schema-valid METS, a known false positive.
    software = etree.SubElement(hdr, _m("agent"), ROLE="CREATOR", TYPE="OTHER", OTHERTYPE="SOFTWARE")
    etree.SubElement(software, _m("name")).text = header.software[0]
    note = etree.SubElement(software, _m("note"))
    note.set(_c("NOTETYPE"), "SOFTWARE VERSION")
    note.text = header.software[1]
    _org_agent(hdr, header.archival_creator, "ARCHIVIST")
    _org_agent(hdr, header.submitter, "OTHER", "SUBMITTER")
    for kind, value in header.alt_record_ids:  # METS orders them after the agents
        etree.SubElement(hdr, _m("altRecordID"), TYPE=kind).text = value


def _md_ref(parent: etree._Element, ref: Ref, mdtype: str, other_mdtype: str | None, mimetype: str) -> None:
    node = etree.SubElement(parent, _m("mdRef"), LOCTYPE="URL")
    node.set(_x("type"), "simple")
    node.set(_x("href"), ref.href)
    node.set("MDTYPE", mdtype)
    if other_mdtype:
        node.set("OTHERMDTYPE", other_mdtype)
    # The validator's IANA list knows text/xml and application/xml; keep to those.
    node.set("MIMETYPE", mimetype)
    _fixity(node, ref.file)


def _fixity(node: etree._Element, file: PackageFile) -> None:
    node.set("SIZE", str(file.size))
    node.set("CREATED", file.created)
    node.set("CHECKSUM", file.sha256)
    node.set("CHECKSUMTYPE", CHECKSUM_TYPE)


def _dmd_sec(root: etree._Element, ref: Ref, created: str) -> None:
    dmd = etree.SubElement(root, _m("dmdSec"), ID=ref.id, CREATED=created, STATUS="CURRENT")
    _md_ref(dmd, ref, "OTHER", "ERMS", "application/xml")


def _amd_sec(root: etree._Element, refs: Sequence[Ref]) -> None:
    amd = etree.SubElement(root, _m("amdSec"))
    for ref in refs:
        digiprov = etree.SubElement(amd, _m("digiprovMD"), ID=ref.id, STATUS="CURRENT")
        _md_ref(digiprov, ref, "PREMIS", None, "text/xml")


def _file_sec(root: etree._Element, fsec_id: str, groups: Sequence[FileGroup]) -> None:
    fsec = etree.SubElement(root, _m("fileSec"), ID=fsec_id)
    for group in groups:
        grp = etree.SubElement(fsec, _m("fileGrp"), ID=group.id, USE=group.use)
        grp.set(_c("CONTENTINFORMATIONTYPE"), "OTHER")
        grp.set(_c("OTHERCONTENTINFORMATIONTYPE"), group.content_type)
        for ref in group.refs:
            node = etree.SubElement(grp, _m("file"), ID=ref.id, MIMETYPE=ref.file.media_type)
            _fixity(node, ref.file)
            locat = etree.SubElement(node, _m("FLocat"), LOCTYPE="URL")
            locat.set(_x("type"), "simple")
            locat.set(_x("href"), ref.href)


def _div(parent: etree._Element, div_id: str, label: str, fptr: str | None = None, **attrs: str) -> etree._Element:
    # Every div gets a LABEL: the validator crashes on a div without one.
    div = etree.SubElement(parent, _m("div"), ID=div_id, LABEL=label, **attrs)
    if fptr:
        etree.SubElement(div, _m("fptr"), FILEID=fptr)
    return div


def root_mets(header: Header, *, erms: Ref, premis: Ref, documentation: FileGroup, schemas: FileGroup,
              representation: FileGroup, representation_name: str) -> bytes:
    """The package METS. ``representation`` is the fileGrp ``Representations/<name>`` holding the rep METS."""
    root = _root(header)
    _header(root, header)
    _dmd_sec(root, erms, header.created)
    _amd_sec(root, [premis])
    _file_sec(root, "filesec", [documentation, schemas, representation])
    smap = etree.SubElement(root, _m("structMap"), ID="structmap-csip", TYPE="PHYSICAL", LABEL="CSIP")
    top = _div(smap, "div-package", header.objid)
    _div(top, "div-metadata", "Metadata", ADMID=premis.id, DMDID=erms.id)
    _div(top, "div-documentation", "Documentation", documentation.id)
    _div(top, "div-schemas", "Schemas", schemas.id)
    _div(top, "div-representations", "Representations", representation.id)
    # The representation div is a child of the package div, beside "Representations", as CSIP 2.1 places it
    # (CSIP105-CSIP112 at mets/structMap/div/div, structMapExample2) and commons-ip looks for it. eark-validator
    # 1.1.3 looks inside "Representations" instead and warns CSIP105; the spec wins (docs/archive.md).
    rep = _div(top, f"div-{representation_name}", f"Representations/{representation_name}")
    mptr = etree.SubElement(rep, _m("mptr"), LOCTYPE="URL")
    mptr.set(_x("type"), "simple")
    mptr.set(_x("href"), representation.refs[0].href)
    mptr.set(_x("title"), representation.id)
    return xml_bytes(root)


def representation_mets(header: Header, *, premis: Ref, data: FileGroup) -> bytes:
    """The representation METS: its PREMIS and its data files, hrefs relative to the representation folder."""
    root = _root(header)
    _header(root, header)
    _amd_sec(root, [premis])
    _file_sec(root, f"{header.objid}-filesec", [data])
    smap = etree.SubElement(root, _m("structMap"), ID=f"{header.objid}-structmap", TYPE="PHYSICAL",
                            LABEL="CSIP")
    top = _div(smap, f"{header.objid}-div", header.objid)
    _div(top, f"{header.objid}-div-metadata", "Metadata", ADMID=premis.id)
    _div(top, f"{header.objid}-div-data", "Data", data.id)
    return xml_bytes(root)
