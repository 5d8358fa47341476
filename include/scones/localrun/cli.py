"""``scones demo`` and ``scones up``: the pipeline's DAGs on the local emulator."""

from __future__ import annotations

import argparse

from scones.emulator.cli import add_state_arguments


def demo(args: argparse.Namespace) -> int:
    from scones.localrun.demo import run_demo

    return run_demo(keep=args.keep, source=args.source, only=args.dag)


def up(args: argparse.Namespace) -> int:
    from pathlib import Path

    from scones.emulator.cli import DEFAULT_STATE_DIR
    from scones.localrun.stack import DEFAULT_HOME, run_up

    state_dir = None if args.ephemeral else Path(args.state_dir or DEFAULT_STATE_DIR)
    return run_up(
        Path(args.home) if args.home else DEFAULT_HOME, args.port, args.host, args.stack, args.aws_port, state_dir
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("up", help="the Airflow UI and the local AWS emulator on this machine (no Docker)")
    p.add_argument(
        "--stack",
        choices=("embedded", "celery"),
        default="embedded",
        help="embedded: airflow standalone's components (LocalExecutor) on PostgreSQL; celery: the docker-compose "
        "layout as processes (CeleryExecutor, Redis, two workers, FAB login)",
    )
    p.add_argument("--port", type=int, default=8080, help="the Airflow UI's port")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address the Airflow UI listens on (default 127.0.0.1: this machine only; 0.0.0.0 for every interface)",
    )
    p.add_argument(
        "--aws-port",
        type=int,
        default=5000,
        help="the local AWS emulator's port (default 5000, as scones local-aws; 0 picks a free one)",
    )
    p.add_argument("--home", help="AIRFLOW_HOME to use (default .local/airflow in the project)")
    add_state_arguments(p)
    p.set_defaults(func=up)

    p = sub.add_parser("demo", help="run the pipeline's DAGs on the local AWS emulator")
    p.add_argument("--source", help="CIFAR-100 archive (default: shared/data subset if present)")
    p.add_argument("--dag", action="append", help="run only this DAG (repeatable)")
    p.add_argument("--keep", action="store_true", help="keep the throwaway AIRFLOW_HOME")
    p.set_defaults(func=demo)
