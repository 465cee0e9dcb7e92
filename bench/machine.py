"""The machine line every bench report starts with: CPU model, CPU count, OS; shared by the bench scripts."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_machine(pinned: str | None = None) -> str:
    """``Intel(R) Xeon(R) Processor, 2 CPUs, pinned to CPU 1 (...); Linux 6.1`` (``pinned`` is left out when None)."""
    cpus = f"{os.cpu_count()} CPUs" + (f", {pinned}" if pinned else "")
    return f"{cpu_model()}, {cpus}; {platform.system()} {platform.release()}"
