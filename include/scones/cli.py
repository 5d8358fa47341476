"""The ``scones`` command: one subcommand per job, each a thin wrapper over ``scones.*``.

Heavy modules are imported inside the subcommand that needs them, so ``scones --help``
and ``scones local-aws`` start fast.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading


def _cmd_local_aws(args: argparse.Namespace) -> int:
    from scones.emulator import LocalAWS

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    aws = LocalAWS(host=args.host, port=args.port).start()
    # The first line is machine-readable: tests and `scones demo` wait for it.
    print(f"local AWS ready at {aws.endpoint_url}", flush=True)
    print(f"  plug-ins: {', '.join(aws.plugins) or 'none'}", flush=True)
    print("  point clients at it with AWS_ENDPOINT_URL; Ctrl-C stops it", flush=True)
    stop.wait()
    aws.stop()
    print("local AWS stopped", flush=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scones", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("local-aws", help="run the local AWS emulator in the foreground")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000, help="0 picks a free port")
    p.set_defaults(func=_cmd_local_aws)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
