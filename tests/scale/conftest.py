"""`make test-scale` only: a real Airflow cluster with Celery workers on PostgreSQL and RabbitMQ takes minutes, so
plain `pytest` (and `make test`) does not collect this folder. ``BRYGGA_SCALE=1`` (set by `make test-scale`) does.

The cluster harness lives in ``scale/cluster.py``, shared with ``bench/scale_out.py``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

if os.environ.get("BRYGGA_SCALE") == "1":
    collect_ignore_glob: list[str] = []
    SCALE = Path(__file__).resolve().parents[2] / "scale"
    if str(SCALE) not in sys.path:
        sys.path.insert(0, str(SCALE))
else:
    collect_ignore_glob = ["test_*.py"]
