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


def process_start(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), so a reused pid is not taken for the old one."""
    stat = _read(f"/proc/{pid}/stat")
    return stat.rsplit(")", 1)[1].split()[19] if stat else ""


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
    return Liveness.GONE if started and process_start(pid) != started else Liveness.ALIVE
