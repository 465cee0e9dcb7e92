"""``PropertyRegisterLookup``: a kommun's property register over REST/JSON, as a ``PropertyRegister`` adapter."""

from __future__ import annotations

import logging
import time
from typing import Any, ClassVar

from brygga.connections import Connection
from brygga.errors import ConfigError, TargetRejected
from brygga.plugins import PropertyRecord, configure
from brygga_adapters.http import build_session, check_url, endpoint_url, timeouts
from brygga_adapters.http.fields import http_connection_fields
from brygga_adapters.property_register.answer import AnswerShape, hits, normalise, pick
from brygga_adapters.property_register.cache import answers, session_for
from brygga_adapters.property_register.config import CONFIG_SPEC, check_config
from brygga_adapters.property_register.transport import NOT_FOUND, get_json

log = logging.getLogger("brygga.adapters.property_register")


class PropertyRegisterLookup:
    """fastighetsbeteckning -> fastighetsnyckel (FNR) and object identity. Endpoint and secrets from the connection."""

    config_spec: ClassVar[dict[str, Any]] = CONFIG_SPEC
    connection_fields: ClassVar[dict[str, str]] = http_connection_fields(
        system="property register API", path="/fastighet/v1", account="the API user or OAuth2 client id")

    def __init__(self, config: dict[str, Any], connection: Connection | None) -> None:
        if connection is None:
            raise ConfigError("property-register lookup needs a connection (the register's URL and credentials)")
        self.config = configure("property-register", CONFIG_SPEC, config)
        check_config(self.config)
        self.connection = connection
        self.url = endpoint_url(connection) + self.config["path"]
        check_url(connection, self.url)
        self.timeout = timeouts(connection)
        self.session = session_for(connection, build_session)
        self.shape = AnswerShape(
            results_field=self.config["results_field"],
            designation_field=self.config["designation_field"],
            fastighetsnyckel_field=self.config["fastighetsnyckel_field"],
            object_identity_field=self.config["object_identity_field"],
        )
        self.where = f"property-register {connection.conn_id}.lookup"
        # Answers are shared by every adapter asking the same register the same way, with the same credentials.
        self._cache_scope = (
            connection.cache_key(),
            self.url,
            self.config["query_parameter"],
            tuple(sorted(self.config["fixed_query"].items())),
            self.shape,
        )

    def lookup(self, fastighetsbeteckning: str) -> PropertyRecord | None:
        designation = normalise(fastighetsbeteckning) if isinstance(fastighetsbeteckning, str) else ""
        if not designation:
            raise TargetRejected(f"{self.where}: the fastighetsbeteckning is empty (rule: designation required)")
        key = (self._cache_scope, designation)
        cached, record = answers.get(key)
        if cached:
            log.debug("property lookup: connection=%s cached=true found=%s", self.connection.conn_id, bool(record))
            return record
        record = self._fetch(designation)
        answers.put(key, record, self.config["cache_seconds"])
        return record

    def _fetch(self, designation: str) -> PropertyRecord | None:
        params = {**self.config["fixed_query"], self.config["query_parameter"]: designation}
        started = time.monotonic()
        document = get_json(self.session, self.url, params, self.timeout, self.where)
        record = None
        if document is not NOT_FOUND:
            record = pick(hits(document, self.shape, self.where), designation, self.shape, self.where)
        log.info(
            "property lookup: connection=%s found=%s seconds=%.3f",
            self.connection.conn_id,
            record is not None,
            time.monotonic() - started,
        )
        return record
