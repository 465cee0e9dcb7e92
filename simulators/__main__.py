"""``python -m brygga_simulators NAME [--host H] [--port N] [--option KEY=VALUE ...]``: run one simulator until Ctrl-C.

Options go to the simulator's constructor as strings, e.g. ``oep-callback --option variant=sundsvall`` or
``property-register --option basic_auth=brygga:s3cret --option not_found=404``. Every simulator takes
``--option fault_plan=<json>`` (see brygga_simulators.faults) and serves ``/_sim/faults`` to change it while running.
"""

from __future__ import annotations

import argparse
import threading

from brygga_simulators import SIMULATORS, RestSimulator, start_simulator


def _option(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError("an option is KEY=VALUE")
    return key, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m brygga_simulators", description=__doc__)
    parser.add_argument("name", choices=sorted(SIMULATORS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--option", type=_option, action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    try:
        running = start_simulator(args.name, host=args.host, port=args.port, **dict(args.option))
    except (TypeError, ValueError) as exc:
        parser.error(f"{args.name}: {exc}")
    print(f"{args.name} simulator: {running.url}", flush=True)
    if isinstance(running.app, RestSimulator):
        print(f"inspect: {running.base_url}/_sim/requests", flush=True)
    else:
        print(f"WSDL: {running.wsdl_url}")
        print(f"inspect: {running.base_url}/_sim/{'cases' if args.name == 'byggr' else 'calls'}", flush=True)
    print(f"faults: {running.base_url}/_sim/faults (GET, POST a JSON list of rules, DELETE)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
