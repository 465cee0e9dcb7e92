"""``python -m brygga_simulators byggr|oep-callback [--host H] [--port N]``: run one simulator until Ctrl-C."""

from __future__ import annotations

import argparse
import threading

from brygga_simulators import SIMULATORS, start_simulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m brygga_simulators", description=__doc__)
    parser.add_argument("name", choices=sorted(SIMULATORS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    running = start_simulator(args.name, host=args.host, port=args.port)
    print(f"{args.name} simulator: {running.url}")
    print(f"WSDL: {running.wsdl_url}")
    print(f"inspect: {running.base_url}/_sim/{'cases' if args.name == 'byggr' else 'calls'}")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
