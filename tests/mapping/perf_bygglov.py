"""Measure the core path of the bygglov mapping against the hand-written yardstick.

Core path = parse ~4 KB FlowInstance + map ~25 fields + decode/hash 3 attachments + validate + json.dumps.
Run: .venv/bin/python tests/mapping/perf_bygglov.py [SAMPLE]. Prints µs per run and runs per second.

The machine is shared, so the two are measured interleaved and the best of many repeats is kept
(CPU time of this process, not wall time).
"""

from __future__ import annotations

import json
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
MAPPING = REPO / "mappings" / "open-eplatform" / "bygglov.yaml"
SAMPLE = REPO / "tests" / "samples" / "open-eplatform" / "bygglov-person.xml"
TENANT = {"kommunkod": "1881", "name": "Kumla kommun"}


def _sink(sha256: str, data: bytes) -> None:
    """Stands in for a content store: the cheapest thing that still receives the bytes."""


def core_paths(data: bytes) -> dict[str, Callable[[], Any]]:
    sys.path.insert(0, str(HERE))
    import handwritten_bygglov  # a sibling module, not a package

    from brygga.canonical import validate_case
    from brygga.mapping import compile_mapping

    mapping = compile_mapping(MAPPING)  # validates the output itself (output_schema)
    dumps = json.dumps

    def engine() -> str:
        return dumps(mapping.run(data), ensure_ascii=False)

    def engine_sink() -> str:
        return dumps(mapping.run(data, attachment_sink=_sink), ensure_ascii=False)

    def hand() -> str:
        case = handwritten_bygglov.translate(data, TENANT)
        if validate_case(case):
            raise AssertionError("hand-written output is invalid")
        return dumps(case, ensure_ascii=False)

    def hand_sink() -> str:
        case = handwritten_bygglov.translate(data, TENANT, _sink)
        if validate_case(case):
            raise AssertionError("hand-written output is invalid")
        return dumps(case, ensure_ascii=False)

    if engine() != hand():
        raise AssertionError("engine and hand-written outputs differ")
    return {"engine": engine, "engine+sink": engine_sink, "hand": hand, "hand+sink": hand_sink}


def measure(paths: dict[str, Callable[[], Any]], number: int = 300, rounds: int = 40) -> dict[str, float]:
    """Best µs per run of each path, interleaved round by round."""
    best = dict.fromkeys(paths, float("inf"))
    for _ in range(rounds):
        for name, fn in paths.items():
            seconds = timeit.timeit(fn, number=number, timer=time.process_time)
            best[name] = min(best[name], seconds / number * 1e6)
    return best


def main(argv: list[str]) -> int:
    sample = Path(argv[0]) if argv else SAMPLE
    data = sample.read_bytes()
    results = measure(core_paths(data))
    for name, us in results.items():
        print(f"{name:12} {us:7.1f} µs/run  {1e6 / us:8.0f} runs/s")
    print(f"engine/hand  {results['engine'] / results['hand']:.2f}x   "
          f"with sink {results['engine+sink'] / results['hand+sink']:.2f}x   ({len(data)} bytes, {sample.name})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
