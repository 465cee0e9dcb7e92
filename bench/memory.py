"""`make bench`, memory: peak RSS against the size of a submission's largest attachment.

Two figures, each measured in fresh child processes so one run's memory never hides in another's:

- **intake + translate**: an Open ePlatform export with one drawing of 1 KB, and one of 100 MB (133 MB of base64),
  dropped in the bundled route's inbox; the child lands it and translates it (attachments streamed into the content
  store). Target: the 100 MB run peaks no more than about 20 MB above the 1 KB run.
- **deliver**: the ByggR adapter delivers one case with one stored document of 1 KB, 50 MB and 100 MB to the ByggR
  simulator (which runs in this parent process, so its memory is not counted). Target: the growth over the 1 KB
  run stays below 3× the document's size.

The baseline of each figure is the 1 KB run of the same code in the same bench run: the growth is the difference
of two peaks, not an absolute RSS, so what Python and the imports cost cancels out.

    .venv/bin/python bench/memory.py                           # print the table
    .venv/bin/python bench/memory.py --write docs/performance-memory.md
    .venv/bin/python bench/memory.py --quick                   # small sizes: does it run?

This is a benchmark, never a test: nothing here asserts a figure. tests/bench only checks that it runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from brygga_simulators import RunningSimulator

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from machine import describe_machine  # noqa: E402 - shared with the other bench scripts

ROUTE = "kumla-bygglov"
KIB, MIB = 1024, 1024 * 1024
TARGET_TRANSLATE_GROWTH = 20 * MIB  # over the 1 KB run, for a 100 MB attachment
TARGET_DELIVER_RATIO = 3.0  # growth over the 1 KB run / document size


def _peak_bytes() -> int:
    """This process's peak RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent through
    fork and exec, and the parent here holds the simulators' documents."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * KIB  # Linux and BSD report KiB
    (line,) = [row for row in status.splitlines() if row.startswith("VmHWM:")]
    return int(line.split()[1]) * KIB


# --- children ---------------------------------------------------------------------------------------------


def child_translate(export: Path, home: Path) -> dict[str, object]:
    os.environ["BRYGGA_HOME"] = str(home)
    from brygga.pipeline import PipelineContext, intake, translate
    from brygga.settings import Settings

    ctx = PipelineContext.for_route(ROUTE, settings=Settings.from_env())
    inbox = home / "inbox" / ROUTE
    inbox.mkdir(parents=True, exist_ok=True)
    export.rename(inbox / export.name)
    before = _peak_bytes()
    batch = intake(ctx)
    translate(ctx, batch)
    (sid,) = batch
    return {"before": before, "peak": _peak_bytes(), "state": ctx.ledger.get(sid).state,
            "reasons": ctx.ledger.quarantine_reasons(sid)}


def child_deliver(size: int, url: str, home: Path) -> dict[str, object]:
    from brygga.connections import Connection
    from brygga.mapping import compile_mapping
    from brygga.plugins import DeliveryRequest, StoredDocument
    from brygga.resources import resource
    from brygga.storage import ContentStore
    from brygga_adapters.byggr import ByggrTarget

    case = compile_mapping(resource("mappings", "open-eplatform", "bygglov.yaml")).run(
        resource("samples", "open-eplatform", "bygglov-person.xml"))
    payload = compile_mapping(resource("mappings", "byggr", "bygglov.yaml")).run(case)
    store = ContentStore(home / "content")
    with store.writer() as blob:
        left = size
        while left:
            chunk = os.urandom(min(MIB, left))
            left -= len(chunk)
            blob.write(chunk)
        sha256, path = blob.commit()
    document = StoredDocument(name="Ritning.pdf", media_type="application/pdf", size=size, sha256=sha256, path=path)
    target = ByggrTarget({}, Connection.from_uri("byggr-bench", f"{url}?allow_http=true&read_timeout=300"))
    request = DeliveryRequest(submission_id="bench", idempotency_key=f"bench-{size}",
                              extern_ref=f"1881:bench:{size}", payload=payload, case=case, documents=[document])
    target.calls()  # load the WSDL before the baseline, as a running worker has
    before = _peak_bytes()
    receipt = target.deliver(request)
    return {"before": before, "peak": _peak_bytes(), "dnr": receipt.external_ref, "sha256": sha256}


# --- the parent -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    size: int
    peak: int
    before: int
    detail: dict[str, object]


def _child(*args: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, str(Path(__file__)), "--child", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=1800, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench child {args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_translate(size: int, work: Path) -> Run:
    from brygga_simulators.oep_export import write_export_with_drawing

    home = Path(tempfile.mkdtemp(prefix="home-", dir=work))
    export = home / f"export-{size}.xml"
    write_export_with_drawing(export, size)
    result = _child("translate", str(export), str(home))
    if result["state"] != "translated":
        raise SystemExit(f"the {size:,}-byte export was not translated: {result['reasons']}")
    return Run(size, int(result["peak"]), int(result["before"]), result)


def measure_deliver(size: int, byggr: RunningSimulator, work: Path) -> Run:
    home = Path(tempfile.mkdtemp(prefix="home-", dir=work))
    result = _child("deliver", str(size), byggr.url, str(home))
    case = byggr.app.cases.get(str(result["dnr"]))
    documents = [d for handelse in case.handelser for d in handelse.documents] if case else []
    if not documents or hashlib.sha256(documents[-1].content).hexdigest() != result["sha256"]:
        raise SystemExit(f"the {size:,}-byte document did not arrive intact at the simulator")
    return Run(size, int(result["peak"]), int(result["before"]), result)


def _mb(n: float) -> str:
    return f"{n / MIB:,.1f} MB"


def _size(n: int) -> str:
    return f"{n // KIB:,} KB" if n < MIB else f"{n // MIB:,} MB"


def render(args: argparse.Namespace, argv: list[str], translate_runs: list[Run], deliver_runs: list[Run]) -> str:
    base_t, base_d = translate_runs[0], deliver_runs[0]
    lines = ["# Performance: memory against attachment size", "",
             "Generated by `make bench` (`bench/memory.py`); do not edit by hand, run it again.", ""]
    if args.quick:
        lines += ["> **QUICK MODE**: small sizes to check that the benchmark runs. These figures are not the "
                  "measurement.", ""]
    lines += [f"- command: `{shlex.join(['.venv/bin/python', 'bench/memory.py', *argv[1:]])}`",
              f"- date: {dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()}",
              f"- machine: {describe_machine()}; python {platform.python_version()}",
              "- peak RSS is `VmHWM` of a fresh child process per row; growth is the peak minus the 1 KB "
              "row's peak, so the interpreter and the imports cancel out.", "",
              "## Intake + translate (landing, then streaming the attachments into the content store)", "",
              "| attachment | peak RSS | growth over 1 KB | target | result |", "|---:|---:|---:|---|---|"]
    for run in translate_runs:
        growth = run.peak - base_t.peak
        target = "" if run is base_t else f"≤ {_mb(TARGET_TRANSLATE_GROWTH)}"
        verdict = "" if run is base_t else ("**pass**" if growth <= TARGET_TRANSLATE_GROWTH else "**FAIL**")
        lines.append(f"| {_size(run.size)} | {_mb(run.peak)} | {_mb(growth)} | {target} | {verdict} |")
    lines += ["", "## Deliver (ByggR adapter: SaveNewArende + SaveNewHandelse with the document, over HTTP)", "",
              "| document | peak RSS | growth over 1 KB | growth / document size | target | result |",
              "|---:|---:|---:|---:|---|---|"]
    for run in deliver_runs:
        growth = run.peak - base_d.peak
        ratio = growth / run.size if run is not base_d else 0.0
        target = "" if run is base_d else f"< {TARGET_DELIVER_RATIO:.0f}×"
        verdict = "" if run is base_d else ("**pass**" if ratio < TARGET_DELIVER_RATIO else "**FAIL**")
        shown = "" if run is base_d else f"{ratio:.2f}×"
        lines.append(f"| {_size(run.size)} | {_mb(run.peak)} | {_mb(growth)} | {shown} | {target} | {verdict} |")
    lines += ["", "## How", "",
              "- **Intake** copies the source file into the landing store in 1 MB chunks, hashing as it goes "
              "(`ContentStore.put_stream`).",
              "- **Translate** reads the landed file with `brygga.xmlread`: above 4 MB the file is fed to libxml2 in "
              "1 MB chunks through a parser target; the text of every `EncodedData` is base64-decoded as it arrives "
              "and written straight into the content store (`BlobWriter`), hashed on the way. The tree keeps only a "
              "reference, so the mapping never sees the bytes.",
              "- **Deliver** verifies each document's sha256 in 1 MB chunks, and the SOAP transport streams the "
              "document into the request body as base64, chunk by chunk, with an exact Content-Length "
              "(`brygga_adapters.soap`), instead of letting zeep build the whole envelope in memory.",
              "- The ByggR simulator, which must hold what it receives, runs in the bench's parent process and is "
              "not counted.", ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", type=Path, metavar="FILE", help="write the Markdown report here too")
    parser.add_argument("--quick", action="store_true", help="small sizes: check that it runs, no figures")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv[1:])
    if args.child:
        kind, *rest = args.child
        result = child_translate(Path(rest[0]), Path(rest[1])) if kind == "translate" else \
            child_deliver(int(rest[0]), rest[1], Path(rest[2]))
        print(json.dumps(result))
        return 0

    from brygga_simulators import start_simulator

    translate_sizes = [KIB, 5 * MIB] if args.quick else [KIB, 50 * MIB, 100 * MIB]
    deliver_sizes = [KIB, 5 * MIB] if args.quick else [KIB, 50 * MIB, 100 * MIB]
    with tempfile.TemporaryDirectory(prefix="brygga-bench-memory-") as tmp:
        work = Path(tmp)
        with start_simulator("property-register") as register:
            # The bundled route looks its properties up; the register runs here, uncounted, like the ByggR one.
            os.environ["BRYGGA_CONN_FASTIGHETSREGISTER_KUMLA"] = f"{register.url}?allow_http=true"
            translate_runs = [measure_translate(size, work) for size in translate_sizes]
        with start_simulator("byggr") as byggr:
            deliver_runs = [measure_deliver(size, byggr, work) for size in deliver_sizes]
    report = render(args, argv, translate_runs, deliver_runs)
    print(report)
    if args.write:
        args.write.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
