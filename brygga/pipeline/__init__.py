"""The steps of one route. Each takes and returns submission ids, and only touches submissions
in the state it handles, so running a step again is always safe."""

from brygga.pipeline.archive import archive
from brygga.pipeline.context import PipelineContext
from brygga.pipeline.deliver import deliver
from brygga.pipeline.health import RunHealth, check
from brygga.pipeline.intake import intake
from brygga.pipeline.notify import notify
from brygga.pipeline.translate import translate

STEPS = ("intake", "translate", "deliver", "archive", "notify")


def run_route(ctx: PipelineContext) -> list[str]:
    """Run every step in order, in-process: what the Airflow DAG does, without Airflow (and without its check)."""
    batch = intake(ctx)
    translate(ctx, batch)
    deliver(ctx, batch)
    archive(ctx, batch)
    notify(ctx, batch)
    return batch


__all__ = ["STEPS", "PipelineContext", "RunHealth", "archive", "check", "deliver", "intake", "notify", "run_route",
           "translate"]
