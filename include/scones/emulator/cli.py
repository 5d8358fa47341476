"""``scones local-aws``: the emulator in the foreground."""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import signal
import sys
import threading
from pathlib import Path

_SOURCE_TREE = Path(__file__).resolve().parents[3]


#: Where ``scones local-aws`` and ``scones up`` keep the emulator's state unless told otherwise:
#: the project's .local/ (git-ignored), or the user's data folder when installed elsewhere
#: (not the working directory: the state holds every object and secret a client stored).
def default_state_dir(source_tree: Path = _SOURCE_TREE) -> Path:
    if (source_tree / "pyproject.toml").exists():
        return source_tree / ".local" / "aws-state"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "scones" / "aws-state"


DEFAULT_STATE_DIR = default_state_dir()


def local_aws(args: argparse.Namespace) -> int:
    import numpy  # noqa: F401 - loads OpenBLAS, which threadpool_limits can only limit once loaded
    from threadpoolctl import threadpool_limits

    from scones.emulator.persistence import StateRefused
    from scones.emulator.server import LocalAWS

    # One BLAS thread: the emulator runs many small matrix products from many threads, and
    # OpenBLAS's own threads spun between them, taking a core from the Lambda workers (the
    # workflow benchmark's emulator CPU per image fell from 97 to 34 ms). Training, a thread of
    # this process too, took as long (20-22 s for 3 epochs on the shared subset either way).
    threadpool_limits(limits=1, user_api="blas")

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request is noise
    # moto's interpreter logs every failure event of an execution at ERROR, a caught one and a
    # low-confidence image included, with the whole state (up to tens of KB a line): each
    # execution's history already holds them (GetExecutionHistory), so they stay out of this log.
    logging.getLogger("moto.stepfunctions.parser.asl").setLevel(logging.CRITICAL)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    state_dir = None if args.ephemeral else Path(args.state_dir or DEFAULT_STATE_DIR)
    try:
        aws = LocalAWS(host=args.host, port=args.port, state_dir=state_dir).start()
    except StateRefused as exc:
        print(f"scones local-aws: {exc}", file=sys.stderr, flush=True)
        return 2
    # The first line is machine-readable: EmulatorProcess waits for it.
    print(f"local AWS ready at {aws.endpoint_url}", flush=True)
    if aws.persistence is not None:
        loaded = ", ".join(f"{k} {v}" for k, v in aws.persistence.summary.items())
        print(f"  state kept in {aws.persistence.state.root} (loaded: {loaded})", flush=True)
    else:
        print("  state in memory only (--ephemeral): lost when it stops", flush=True)
    print(f"  plug-ins: {', '.join(aws.plugins) or 'none'}", flush=True)
    print("  point clients at it with AWS_ENDPOINT_URL; Ctrl-C stops it", flush=True)
    stop.wait()
    aws.stop()
    print("local AWS stopped", flush=True)
    # What must run at exit is registered with atexit (the Lambda workers' shutdown, the capture
    # writer's flush, temporary bodies' removal): run it, then skip the interpreter's teardown of
    # moto's objects, which took 1.7 s of every stop.
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("local-aws", help="run the local AWS emulator in the foreground")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000, help="0 picks a free port")
    add_state_arguments(p)
    p.set_defaults(func=local_aws)


def add_state_arguments(p: argparse.ArgumentParser) -> None:
    """``--state-dir DIR`` / ``--ephemeral``: shared by ``scones local-aws`` and ``scones up``."""
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--state-dir", help=f"keep the local AWS's state in DIR across restarts (default {DEFAULT_STATE_DIR})"
    )
    group.add_argument(
        "--ephemeral", action="store_true", help="keep the local AWS's state in memory only: lost when it stops"
    )
