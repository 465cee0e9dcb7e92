"""The status feed's steps outside Airflow: what its DAG's tasks do, callable from the CLI and tests."""

from __future__ import annotations

from dataclasses import dataclass

from brygga.connections import ConnectionResolver
from brygga.settings import Settings
from brygga.status.context import StatusContext
from brygga.status.poll import PollResult, poll
from brygga.status.tell import TellResult, tell


@dataclass(frozen=True)
class StatusRun:
    poll: PollResult
    tell: TellResult

    @property
    def ok(self) -> bool:
        return not self.tell.failed


def run_status(connection: str, *, settings: Settings | None = None,
               connections: ConnectionResolver | None = None) -> StatusRun:
    ctx = StatusContext.for_connection(connection, settings=settings, connections=connections)
    return StatusRun(poll(ctx), tell(ctx))
