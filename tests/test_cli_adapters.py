"""`brygga adapters list` and the adapter contract's declarations (docs/adapters.md)."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest

from brygga.adapter_catalog import installed

ADAPTERS = installed()
# The file adapters work on local folders: no connection.
WITHOUT_CONNECTION = {"file-inbox", "archive-folder"}


def test_every_bundled_adapter_is_installed_and_imports() -> None:
    names = {a.name for a in ADAPTERS}
    assert {"byggr", "ecos", "rest", "sftp-inbox", "sftp-archive", "webhook", "file-inbox", "archive-folder",
            "oep-callback", "property-register"} <= names
    assert [a.name for a in ADAPTERS if a.error] == []


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.name)
def test_each_adapter_declares_a_valid_documented_config_and_its_connection(adapter) -> None:
    from importlib import import_module

    module, _, name = adapter.target.partition(":")
    spec = getattr(import_module(module), name).config_spec
    jsonschema.Draft202012Validator.check_schema(spec)
    assert adapter.kinds, "implements none of the contract's methods"
    undocumented = [f.name for f in adapter.config if not f.description]
    assert undocumented == [], f"config fields without a description: {undocumented}"
    assert not [f.name for f in adapter.config if f.secret], "a secret belongs in the connection, not the config"
    assert bool(adapter.connection) is (adapter.name not in WITHOUT_CONNECTION)


def test_the_listing_shows_kind_config_and_connection() -> None:
    done = subprocess.run([sys.executable, "-m", "brygga.cli", "adapters", "list"], capture_output=True, text=True,
                          timeout=120, check=True)
    block = done.stdout.split("\n\nrest  ")[1].split("\n\n")[0]
    assert "is a:        case target" in block
    assert "config       create (required)" in block
    assert "connection   extra token_url:" in block
    listed = subprocess.run([sys.executable, "-m", "brygga.cli", "adapters", "list", "--json"], capture_output=True,
                            text=True, timeout=120, check=True)
    sftp = next(a for a in json.loads(listed.stdout) if a["name"] == "sftp-archive")
    assert sftp["kinds"] == ["archive target"] and "extra host_key" in sftp["connection"]
