"""``scones demo``: run the pipeline's DAGs on the local emulator."""

from __future__ import annotations

import argparse


def demo(args: argparse.Namespace) -> int:
    from scones.localrun.demo import run_demo

    return run_demo(keep=args.keep, source=args.source, only=args.dag)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the pipeline's DAGs on the local AWS emulator")
    p.add_argument("--source", help="CIFAR-100 archive (default: shared/data subset if present)")
    p.add_argument("--dag", action="append", help="run only this DAG (repeatable)")
    p.add_argument("--keep", action="store_true", help="keep the throwaway AIRFLOW_HOME")
    p.set_defaults(func=demo)
