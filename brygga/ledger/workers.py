"""Who holds a lease, and whether that worker is still alive.

A lease names its worker as ``<host>:<pid>:<process start>``. The host part is the host name (cut short) and a
hash of the full name, the boot id and the pid namespace, so two containers or pods whose names share a prefix,
or that have pid namespaces of their own, are never taken for one host. On the same host a lease's worker is
known to be gone when its pid is gone or belongs to a process started at another time; another host's worker
can only be trusted until its lease runs out.
"""

from __future__ import annotations

import hashlib
import os
import socket
from enum import Enum
from functools import cache
from pathlib import Path


class Liveness(Enum):
    ALIVE = "alive"  # on this host, running
    GONE = "gone"  # on this host, no longer running: its call's outcome is unknown
    UNKNOWN = "unknown"  # on another host


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name: state first, the start time at index 19."""
    stat = _read(f"/proc/{pid}/stat")
    return stat.rsplit(")", 1)[1].split() if stat else []


def process_start(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), so a reused pid is not taken for the old one."""
    fields = _stat(pid)
    return fields[19] if fields else ""


@cache
def host_id() -> str:
    name = socket.gethostname()
    try:
        pid_namespace = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        pid_namespace = ""
    digest = hashlib.sha256(f"{name}|{_read('/proc/sys/kernel/random/boot_id')}|{pid_namespace}".encode())
    return f"{name[:20]}/{digest.hexdigest()[:12]}"  # at most 33 characters: the column holds 64


def worker_id() -> str:
    pid = os.getpid()
    return f"{host_id()}:{pid}:{process_start(pid)}"


def liveness(owner: str | None) -> Liveness:
    if not owner:
        return Liveness.GONE
    host, _, rest = owner.partition(":")
    pid_text, _, started = rest.partition(":")
    if host != host_id() or not pid_text.isdigit():
        return Liveness.UNKNOWN
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return Liveness.GONE
    except PermissionError:
        return Liveness.ALIVE  # another user's process
    fields = _stat(pid)
    if fields and fields[0] in ("Z", "X"):  # killed, not yet reaped by its parent: gone all the same
        return Liveness.GONE
    return Liveness.GONE if started and fields and fields[19] != started else Liveness.ALIVE
