"""`make bench`, the archive step: build an FGS 2.0 / E-ARK SIP per submission and hand it to an archive folder.

For each of N packages (default 300) of one sample case with 3 attachments from a content store, the archive
step's own work is timed part by part, the way ``brygga.pipeline.archive`` does it:

- **build_sip**: write the package (payload, PREMIS, ERMS, METS) in the run's staging folder, without its check;
- **verify**: the package's check before it is renamed into place (timed inside build_sip);
- **hand-over**: ``ArchiveFolderTarget.deliver_package`` and removing what is left in staging.

The baseline, measured in the same run and interleaved package by package, is a plain ``shutil.copytree`` of one
such package into the archive folder: the I/O a package costs at the least. The ratio step / copytree says how
far the step is from that floor. A cProfile of the step gives the top functions by own time.

    .venv/bin/python bench/archive_step.py                          # print the table
    .venv/bin/python bench/archive_step.py --write var/bench-archive.md
    .venv/bin/python bench/archive_step.py --quick                  # a few packages: does it run?

This is a benchmark, never a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import platform
import pstats
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

from brygga import __version__  # noqa: E402
from brygga.archive import Agent, build_sip  # noqa: E402
from brygga.archive import package as package_mod  # noqa: E402
from brygga.mapping import compile_mapping  # noqa: E402
from brygga.pipeline.archive import RunStaging  # noqa: E402
from brygga.storage import ContentStore  # noqa: E402
from brygga_adapters.file import ArchiveFolderTarget  # noqa: E402

KUMLA = Agent("Kumla kommun", "2120001637")
TENANT = {"kommunkod": "1881", "name": "Kumla kommun"}
MAPPING = REPO / "mappings" / "open-eplatform" / "bygglov.yaml"
SAMPLE = REPO / "tests" / "samples" / "open-eplatform" / "bygglov-person.xml"  # the core path's sample
LARGE = (  # --large: (name, media type, size), a drawing, a photo and a short text as a real bygglov brings
    ("Situationsplan.pdf", "application/pdf", 160 * 1024),
    ("Fasad.png", "image/png", 48 * 1024),
    ("Beskrivning.txt", "text/plain", 3 * 1024),
)
PARTS = ("build_sip", "verify", "hand-over")


def _pdf(size: int) -> bytes:
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    tail = b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    filler = bytes((i * 7 + 13) % 251 for i in range(size - len(head) - len(tail)))
    return head + filler + tail


def _png(size: int) -> bytes:
    head = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    return head + bytes((i * 31 + 5) % 253 for i in range(size - len(head)))


def _large(store: ContentStore) -> list[dict[str, Any]]:
    attachments = []
    for number, (name, media_type, size) in enumerate(LARGE, start=1):
        data = _pdf(size) if name.endswith(".pdf") else _png(size) if name.endswith(".png") else \
            (b"Nybyggnad av enbostadshus.\n" * (size // 27 + 1))[:size]
        digest, _path = store.put(data)
        attachments.append({"sourceId": str(7000 + number), "name": name, "mediaType": media_type,
                            "size": len(data), "sha256": digest})
    return attachments


def sample_case(store: ContentStore, large: bool) -> dict[str, Any]:
    """The core path's sample, translated by the real mapping (its attachments into ``store``)."""
    case: dict[str, Any] = compile_mapping(MAPPING).run(SAMPLE.read_bytes(), context={"tenant": dict(TENANT)},
                                                         blob_sink=store)
    if len(case.get("attachments") or []) != 3:
        raise SystemExit(f"{SAMPLE}: expected a sample with 3 attachments")
    if large:
        case["attachments"] = _large(store)
    return case


def _describe(case: dict[str, Any]) -> str:
    return ", ".join(f"{a['size']:,} B {a['mediaType']}" for a in case["attachments"])


@dataclass
class Clock:
    """Wall ms per package for each part, and the time spent in the package check while a build runs."""

    ms: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in (*PARTS, "copytree")})
    cpu: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in (*PARTS, "copytree")})
    in_verify: float = 0.0
    in_verify_cpu: float = 0.0


@contextmanager
def _timed_check(clock: Clock) -> Iterator[None]:
    """Wrap the check build_sip runs before its rename, so its time is counted apart from the writing."""
    name = "verify_written"
    real = getattr(package_mod, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        start, cpu = time.perf_counter(), time.process_time()
        try:
            return real(*args, **kwargs)
        finally:
            clock.in_verify += time.perf_counter() - start
            clock.in_verify_cpu += time.process_time() - cpu

    setattr(package_mod, name, timed)
    try:
        yield
    finally:
        setattr(package_mod, name, real)


class Step:
    """One package through the archive step, as ``brygga.pipeline.archive._hand_over`` does it."""

    def __init__(self, root: Path, large: bool) -> None:
        self.store = ContentStore(root / "content")
        self.case = sample_case(self.store, large)
        self.target = ArchiveFolderTarget({"path": str(root / "archive")})
        self.staging = RunStaging(root / "home" / "archive-staging")
        self.next_reference = 1000

    def out_dir(self) -> Path:
        return self.staging.folder_for(self.target) / "archive"

    def build(self) -> tuple[Path, dict[str, Any]]:
        self.next_reference += 1
        case = {**self.case, "source": {**self.case["source"], "reference": str(self.next_reference)}}
        out_dir = self.out_dir()
        out_dir.mkdir(exist_ok=True)
        package = build_sip(case, self.store.documents(case["attachments"]), out_dir=out_dir,
                            diarienummer="BN 2026-000123", archival_creator=KUMLA, submitter=KUMLA,
                            software=("Brygga", __version__))
        return package, case

    def hand_over(self, package: Path) -> str:
        try:
            return self.target.deliver_package(package)
        finally:
            shutil.rmtree(package, ignore_errors=True)

    def one(self) -> str:
        return self.hand_over(self.build()[0])


def run(step: Step, copy_source: Path, copies: Path, count: int, clock: Clock) -> None:
    with _timed_check(clock):
        for number in range(count):
            before, before_cpu = clock.in_verify, clock.in_verify_cpu
            c0, t0 = time.process_time(), time.perf_counter()
            package, _case = step.build()
            c1, t1 = time.process_time(), time.perf_counter()
            step.hand_over(package)
            c2, t2 = time.process_time(), time.perf_counter()
            shutil.copytree(copy_source, copies / f"copy-{number}")  # the floor, interleaved with the step
            c3, t3 = time.process_time(), time.perf_counter()
            verify, verify_cpu = clock.in_verify - before, clock.in_verify_cpu - before_cpu
            for into, parts in ((clock.ms, (t0, t1, t2, t3, verify)), (clock.cpu, (c0, c1, c2, c3, verify_cpu))):
                a, b, c, d, v = parts
                into["build_sip"].append((b - a - v) * 1000)
                into["verify"].append(v * 1000)
                into["hand-over"].append((c - b) * 1000)
                into["copytree"].append((d - c) * 1000)


def _where(key: tuple[str, int, str]) -> str:
    file, line, func = key
    if file == "~":
        return func
    path = Path(file)
    if path.is_relative_to(REPO):
        return f"{path.relative_to(REPO)}:{line} {func}"
    return f"{path.name}:{line} {func}"


def profile(fn: Callable[[], Any], calls: int, top: int = 10) -> list[tuple[str, float, float, float]]:
    """Top functions by own time: (where, calls per package, own share, cumulative share)."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        fn()
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(tt for _cc, _nc, tt, _ct, _callers in stats.values()) or 1.0
    rows = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    return [(_where(key), nc / calls, tt / total, ct / total) for key, (_cc, nc, tt, ct, _callers) in rows]


def _files(package: Path) -> tuple[int, int]:
    files = [p for p in package.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def _rel(path: str) -> str:
    try:
        return str(Path(path).absolute().relative_to(Path.cwd()))
    except ValueError:
        return path


def _summary(times: dict[str, list[float]]) -> tuple[dict[str, float], dict[str, float], float, float, float]:
    """(median per part, mean per part, median of the step, mean of the step, median of step / copytree)."""
    steps = [sum(times[p][i] for p in PARTS) for i in range(len(times["copytree"]))]
    ratios = [step / max(copy, 1e-6) for step, copy in zip(steps, times["copytree"], strict=True)]
    return ({part: statistics.median(values) for part, values in times.items()},
            {part: statistics.fmean(values) for part, values in times.items()},
            statistics.median(steps), statistics.fmean(steps), statistics.median(ratios))


def render(args: argparse.Namespace, argv: list[str], clock: Clock, hotspots: list[tuple[str, float, float, float]],
           sample: str, files: tuple[int, int], same_fs: bool, seconds: float) -> str:
    med, mean, step_med, step_mean, ratio = _summary(clock.ms)
    cmed, cmean, cstep_med, cstep_mean, cratio = _summary(clock.cpu)
    command = shlex.join([_rel(sys.executable), _rel(argv[0]), *argv[1:]])
    lines = ["# Performance: the archive step", "",
             "Generated by `bench/archive_step.py`; do not edit by hand, run it again."]
    if args.quick:
        lines += ["", "> **QUICK MODE**: a handful of packages to check that the benchmark runs. "
                      "These figures are not a measurement."]
    lines += [
        "",
        f"- command: `{command}`",
        f"- date: {dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()}",
        f"- machine: {os.cpu_count()} CPUs; {platform.system()} {platform.release()}; "
        f"python {platform.python_version()}",
        f"- {args.packages} packages of `{_rel(str(SAMPLE))}` translated by `{_rel(str(MAPPING))}`, "
        f"{'with 3 larger attachments in place of its own' if args.large else 'with its own attachments'} "
        f"({sample}); a package holds {files[0]} files, {files[1]:,} bytes",
        f"- staging on the archive folder's file system: {'yes' if same_fs else 'no'}",
        f"- {seconds:.1f} s in all",
        "",
        "## ms per package",
        "",
        "| part | wall, median | wall, mean | CPU, median | CPU, mean | share of the step (CPU, mean) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    labels = {"build_sip": "build_sip (writing, without its check)", "verify": "verify (the check before the rename)",
              "hand-over": "hand-over (`ArchiveFolderTarget.deliver_package` + staging cleanup)"}
    lines += [f"| {labels[p]} | {med[p]:.2f} | {mean[p]:.2f} | {cmed[p]:.2f} | {cmean[p]:.2f} | "
              f"{cmean[p] / cstep_mean:.0%} |" for p in PARTS]
    lines += [
        f"| **the step** | **{step_med:.2f}** | **{step_mean:.2f}** | **{cstep_med:.2f}** | **{cstep_mean:.2f}** "
        "| 100% |",
        f"| baseline: `shutil.copytree` of one package | {med['copytree']:.2f} | {mean['copytree']:.2f} | "
        f"{cmed['copytree']:.2f} | {cmean['copytree']:.2f} | |",
        f"| step / copytree (median of per-package ratios) | {ratio:.1f}× | | {cratio:.1f}× | | |",
        "",
        f"Hotspots of the step: cProfile over {args.profile} packages, the top {len(hotspots)} functions by own "
        "time, as a share of all profiled time (the profiler inflates small Python functions; read the order "
        "and the calls):",
        "",
        "| function | calls/package | own time | cumulative |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| `{where}` | {calls:g} | {own:.0%} | {cum:.0%} |" for where, calls, own, cum in hotspots]
    lines += [
        "",
        "## How to read this",
        "",
        "- Wall time on a shared machine moves with the load; CPU time (this process's) much less. The copytree "
        "baseline runs in the same loop, right after each package, so the ratio is the steadier figure.",
        "- copytree reads and writes every byte of a finished package once: a step that writes the package once "
        "and hands it over by a rename can come close to it, never below it by much.",
        "- This is a benchmark, not a test: nothing fails when a figure moves.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packages", type=int, help="packages to build and hand over (default 300; 20 --quick)")
    parser.add_argument("--profile", type=int, help="packages under cProfile (default 100; 10 with --quick)")
    parser.add_argument("--write", type=Path, metavar="FILE", help="write the Markdown report here too")
    parser.add_argument("--large", action="store_true", help="3 attachments of 160, 48 and 3 KiB instead")
    parser.add_argument("--quick", action="store_true", help="a few packages: check that it runs, no figures")
    args = parser.parse_args(argv[1:])
    args.packages = args.packages or (20 if args.quick else 300)
    args.profile = args.profile or (10 if args.quick else 100)

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="brygga-bench-archive-") as tmp:
        root = Path(tmp)
        step = Step(root, args.large)
        with step.staging:
            # Warm up (FIDO's signatures, the case schema) and keep one package as the copytree baseline's source.
            package, _case = step.build()
            copy_source = root / "copy-source" / package.name
            copy_source.parent.mkdir()
            shutil.copytree(package, copy_source)
            step.hand_over(package)
            copies = root / "archive-copies"
            copies.mkdir()
            same_fs = os.stat(step.out_dir()).st_dev == os.stat(step.target.root).st_dev
            clock = Clock()
            run(step, copy_source, copies, args.packages, clock)
            hotspots = profile(step.one, args.profile)
            files = _files(copy_source)
    report = render(args, argv, clock, hotspots, _describe(step.case), files, same_fs,
                    time.perf_counter() - started)
    print(report, end="")
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(report, encoding="utf-8")
        print(f"\nwritten to {args.write}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
