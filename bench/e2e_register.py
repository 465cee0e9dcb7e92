"""The property register for the end-to-end bench, in a process of its own: the simulator's seeded properties plus
the bench's, one per ``property_number`` (``e2e_world.bench_property``), so every submission's property is found.

``python bench/e2e_register.py PROPERTIES USER:PASSWORD`` prints ``property-register simulator: URL`` as
``python -m brygga_simulators`` does, then serves until SIGINT.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from e2e_world import bench_property  # noqa: E402

from brygga_simulators import start_simulator  # noqa: E402
from brygga_simulators.property_register import PropertyRegisterSimulator  # noqa: E402
from brygga_simulators.property_register.records import SEEDED_UNITS, RegisterUnit  # noqa: E402


def main(argv: list[str]) -> int:
    count, auth = int(argv[1]), argv[2]
    units = [RegisterUnit("KUMLA", *bench_property(n)[1:], kommunkod="1881") for n in range(count)]
    running = start_simulator(PropertyRegisterSimulator(units=[*SEEDED_UNITS, *units], basic_auth=auth))
    print(f"property-register simulator: {running.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
