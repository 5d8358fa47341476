"""The ``scones`` command: one subcommand per job, each a thin wrapper over ``scones.*``.

Each area owns its subcommands in its own ``cli`` module with a ``register(subparsers)``
function, listed in ``COMMAND_MODULES``. Heavy modules are imported inside the command that
needs them, so ``scones --help`` and ``scones local-aws`` start fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

COMMAND_MODULES: tuple[str, ...] = (
    "scones.backlog.cli",  # classify-backlog
    "scones.config_reference",  # config-reference
    "scones.emulator.cli",  # local-aws
    "scones.etl.cli",  # etl
    "scones.localrun.cli",  # demo
    "scones.monitoring.cli",  # monitor analyze
    "scones.policies",  # aws-policy
    "scones.workflow.cli",  # traffic
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scones", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name not in (name, name.rsplit(".", 1)[0]):
                raise
            continue  # that area has not landed yet
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if check := getattr(args, "check", None):  # a subcommand's checks across its options
        check(parser, args)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("botocore").setLevel(logging.WARNING)  # "found credentials" is noise
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
