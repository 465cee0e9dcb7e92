"""One scheduler tick of a route, in a process of its own, as an Airflow task runs it (started by bench/faults.py).

``python bench/faults_tick.py ROUTE_ID``: exit 0 when ``run_route`` returned, 1 when it raised (a red task; the
traceback goes to stderr as a task log would show it). Settings and connections come from the environment.
"""

from __future__ import annotations

import logging
import sys
import traceback


def main(argv: list[str]) -> int:
    route_id = argv[1] if len(argv) > 1 else "kumla-bygglov"
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    try:
        from brygga.pipeline import PipelineContext, run_route
        from brygga.settings import Settings

        batch = run_route(PipelineContext.for_route(route_id, settings=Settings.from_env()))
    except Exception:
        traceback.print_exc()
        sys.stderr.flush()
        return 1
    print(f"tick ok: batch of {len(batch)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
