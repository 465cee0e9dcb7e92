"""The REST target's route config: where to create, search, upload, amend and read changes, declared so no Python is
needed.

Checked before anything runs (``brygga.plugins.configure`` for the shape, ``check_config`` for the rules JSON Schema
cannot say). Secrets never live here: endpoint and credentials come from the connection.
"""

from __future__ import annotations

import re
from typing import Any

from brygga.errors import ConfigError

# Relative to the connection's URL: no scheme, host, query, fragment or parent steps; {placeholders} allowed.
_PATH = "^/(?!.*\\.\\.)[A-Za-z0-9._~%/{}:@!$'()*+,;=-]*$"
_POINTER = "^(/([^~]|~[01])*)+$"
_POINTER_OR_ROOT = "^(/([^~]|~[01])*)*$"
_NAME = "^[A-Za-z][A-Za-z0-9_]{0,63}$"
_HEADER = "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$"
_METHODS = ["POST", "PUT", "PATCH"]

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
REFERENCE = "reference"
EXTERN_REF = "extern_ref"
ATTACHMENT_MODES = ("none", "upload", "embedded")
DEFAULT_CONFLICT = (409,)


def _call(title: str, default_method: str = "POST") -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["path"],
        "description": title,
        "properties": {
            "path": {"type": "string", "pattern": _PATH, "description": "Path relative to the connection's URL."},
            "method": {"type": "string", "enum": _METHODS, "default": default_method,
                       "description": f"HTTP method (default {default_method})."},
        },
    }


def _create_call() -> dict[str, Any]:
    call = _call("The call that creates the case; the mapping's output is its JSON body.")
    call["properties"]["conflict"] = {
        "type": "array",
        "items": {"type": "integer", "minimum": 400, "maximum": 499},
        "uniqueItems": True,
        "default": list(DEFAULT_CONFLICT),
        "description": "Statuses that mean 'a case with this extern ref exists already' (default [409]); with "
        "search, such an answer is followed by a search, and a case not found yet is in doubt (searched again "
        "later). Sundsvall's casemanagement answers a taken externalCaseId with 400: [400, 409].",
    }
    return call


def _changes() -> dict[str, Any]:
    pointer = {"type": "string", "pattern": _POINTER}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["path", "case_ref", "at", "facts"],
        "description": "The target as a status feed (optional): a GET that lists the changes of the client's cases "
        "after a moment, read by JSON pointers. Without it the target reports no changes.",
        "properties": {
            "path": {"type": "string", "pattern": _PATH,
                     "description": "The GET, relative to the connection's URL, e.g. /changes; path_values "
                     "placeholders allowed."},
            "since_param": {"type": "string", "pattern": "^[A-Za-z0-9_.~-]{1,64}$", "default": "since",
                            "description": "Query parameter carrying the watermark: the last answer's 'until' (the "
                            "first time: the feed's start), RFC 3339 in UTC; changes after it (exclusive) are asked "
                            "for."},
            "items": {"type": "string", "pattern": _POINTER_OR_ROOT, "default": "",
                      "description": "JSON pointer to the list of changes in the answer ('' when the answer is "
                      "the list)."},
            "until": {**pointer, "description": "JSON pointer to the moment the answer runs to (RFC 3339), the next "
                      "poll's watermark. Without it: the newest change's time, or the watermark asked with when "
                      "there is none (a change the system records later with an older or equal time is then "
                      "missed: give this where the API has it)."},
            "case_ref": {**pointer, "description": "JSON pointer in one change to the system's reference of the "
                         "case (a work order's number)."},
            "extern_ref": {**pointer, "description": "JSON pointer in one change to Brygga's extern ref kept on the "
                           "case (optional; a change without one is of a case Brygga did not create)."},
            "at": {**pointer, "description": "JSON pointer in one change to when it happened (RFC 3339 with an "
                   "offset)."},
            "id": {**pointer, "description": "JSON pointer in one change to its own stable id. Without it a change's "
                   "id is '<case_ref>:<fact>=<value>,...:<at in UTC>', which tells apart only changes that differ "
                   "in a fact or a moment. Changing this later changes every id: changes are then reported again."},
            "facts": {
                "type": "object",
                "minProperties": 1,
                "maxProperties": 20,
                "propertyNames": {"pattern": _NAME},
                "additionalProperties": pointer,
                "description": "Fact name -> JSON pointer in one change, e.g. {status: /status}: the system's codes "
                "a status vocabulary (mappings/status/*.yaml) matches on; never free text or personal data. The "
                "fact 'change' is 'status' unless mapped here.",
            },
        },
    }


CONFIG_SPEC: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "REST case target",
    "description": "Creates one case (order, errand) per submission in a JSON API, with check-before-create, "
    "Idempotency-Key and documents uploaded or embedded. The outbound mapping's output is the JSON body.",
    "type": "object",
    "additionalProperties": False,
    "required": ["create", "reference"],
    "properties": {
        "create": _create_call(),
        "path_values": {
            "type": "object",
            "propertyNames": {"pattern": _NAME, "not": {"enum": [REFERENCE, EXTERN_REF]}},
            "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 200},
            "default": {},
            "description": "Fixed values for {placeholders} in paths and search queries, e.g. {municipalityId: "
            "'2281'}; url-quoted in paths.",
        },
        "extern_ref_field": {
            "type": "string",
            "pattern": _POINTER,
            "description": "JSON pointer in the create body where the adapter writes the submission's extern ref "
            "(e.g. /externalRef); also how search hits are told apart.",
        },
        "reference": {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "maxProperties": 1,
            "description": "Where the created case's id is in the create answer: {json: pointer} or "
            "{header: Location} (the last path segment of that header); or {extern_ref: true} for an API that "
            "answers before the case exists and keys every later call by the caller's reference (Sundsvall's "
            "casemanagement: the extern ref is then the case's reference).",
            "properties": {
                "json": {"type": "string", "pattern": _POINTER},
                "header": {"type": "string", "pattern": _HEADER},
                "extern_ref": {"const": True},
            },
        },
        "search": {
            "type": "object",
            "additionalProperties": False,
            "required": ["path", "reference"],
            "description": "Check-before-create: a GET that finds a case by the extern ref. Without it, a retry "
            "relies on the Idempotency-Key alone.",
            "properties": {
                "path": {"type": "string", "pattern": _PATH},
                "query": {
                    "type": "object",
                    "propertyNames": {"pattern": "^[A-Za-z0-9_.~-]{1,64}$"},
                    "additionalProperties": {"type": "string", "maxLength": 200},
                    "default": {},
                    "description": "Query parameters; values may hold {extern_ref} and path_values placeholders.",
                },
                "items": {"type": "string", "pattern": _POINTER_OR_ROOT, "default": "",
                          "description": "JSON pointer to the list of hits ('' when the answer is the list)."},
                "reference": {"type": "string", "pattern": _POINTER,
                              "description": "JSON pointer to the case id inside one hit."},
            },
        },
        "attachments": {
            "type": "object",
            "additionalProperties": False,
            "default": {"mode": "none"},
            "description": "How the submission's documents reach the case.",
            "properties": {
                "mode": {"type": "string", "enum": list(ATTACHMENT_MODES), "default": "none",
                         "description": "upload: one POST per document, streamed from disk; embedded: base64 in "
                         "the JSON body; none: documents are not sent."},
                "path": {"type": "string", "pattern": _PATH,
                         "description": "upload: where each document is POSTed, e.g. /orders/{reference}/attachments."},
                "list": {"type": "string", "pattern": _POINTER_OR_ROOT,
                         "description": "upload: JSON pointer to the case's attachments in GET {create.path}/"
                         "{reference}; each with a sha256. Then only documents the case lacks are uploaded."},
                "items": {"type": "string", "pattern": _POINTER_OR_ROOT,
                          "description": "embedded: JSON pointer to the array of attachment objects the mapping "
                          "made."},
                "content_field": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$",
                                  "description": "embedded: field of each item where the mapping put the document's "
                                  "sha256; the adapter replaces it with the document's base64."},
            },
        },
        "amend": _call("Where an amended form goes: the mapping's output is sent there (optional; without it an "
                       "amendment is refused)."),
        "changes": _changes(),
        "idempotency_header": {
            "type": "string",
            "pattern": _HEADER,
            "default": "Idempotency-Key",
            "description": "Header carrying the request's idempotency key on create, amend and each upload.",
        },
    },
}


def check_config(config: dict[str, Any]) -> None:
    """Rules JSON Schema cannot say: placeholders name only what the adapter fills, and each mode has its fields.

    Payload fields are never placeholders (SSRF rule: what a resident typed must not choose where a request goes).
    """
    fixed = set(config["path_values"])
    before_case = fixed | {EXTERN_REF}
    with_case = before_case | {REFERENCE}
    _placeholders("create/path", config["create"]["path"], before_case)
    search = config.get("search")
    if search:
        _placeholders("search/path", search["path"], before_case)
        for name, value in search.get("query", {}).items():
            _placeholders(f"search/query/{name}", value, before_case)
    if config.get("amend"):
        _placeholders("amend/path", config["amend"]["path"], with_case)
    if config.get("changes"):
        _placeholders("changes/path", config["changes"]["path"], fixed)
    attachments = config["attachments"]
    mode = attachments.get("mode", "none")
    needed = {"upload": ("path",), "embedded": ("items", "content_field")}.get(mode, ())
    for key in needed:
        if key not in attachments:
            raise ConfigError(f"rest config/attachments: mode {mode} needs {key!r} (rule: attachments)")
    if mode == "upload":
        _placeholders("attachments/path", attachments["path"], with_case)
    if "list" in attachments and mode != "upload":
        raise ConfigError("rest config/attachments/list: only for mode upload (rule: attachments)")


def _placeholders(where: str, template: str, allowed: set[str]) -> None:
    rest = PLACEHOLDER.sub("", template)
    if "{" in rest or "}" in rest:
        raise ConfigError(f"rest config/{where}: unbalanced braces (rule: placeholders)")
    for name in PLACEHOLDER.findall(template):
        if name not in allowed:
            raise ConfigError(
                f"rest config/{where}: placeholder {{{name}}} is not allowed here; allowed: "
                f"{', '.join(sorted('{' + n + '}' for n in allowed))} (rule: placeholders, never payload fields)"
            )
