"""One warm Airflow process that runs a :class:`~scones.localrun.airflow_home.LocalAirflow`'s
CLI commands (``db migrate``, ``dags test``), one after another.

Why: every ``airflow`` command pays Airflow's imports and, for ``dags test``, the build of the
in-process Execution API (Cadwyn generates a router per API version) before its first task runs:
10-15 s of CPU on a 2-core machine, for each DAG run of ``scones demo`` and of the end-to-end
tests. This process pays them once. Each command runs exactly as ``airflow ...`` would (the same
parser, the same ``args.func``), with the process's stdout and stderr sent to that command's log
file, and answers with its exit code.

Protocol: one JSON line per command on stdin (``{"argv": [...], "log": path}``), one JSON line
per answer (``{"returncode": n}``) on the stdout the process started with. End of stdin ends the
process. Between commands, output goes to the runner's own log (argv[1]), never into the answers.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def output_to(path: Path) -> Iterator[None]:
    """fd 1 and 2 (so Python's streams, logging handlers and child processes) write to ``path``."""
    sys.stdout.flush()
    sys.stderr.flush()
    with path.open("ab") as log:
        saved = os.dup(1), os.dup(2)
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def exit_code(exit: SystemExit) -> int:
    """The status ``sys.exit(code)`` gives a process (a message is printed, and means 1)."""
    if exit.code is None:
        return 0
    if isinstance(exit.code, int):
        return exit.code
    print(exit.code, file=sys.stderr)
    return 1


def run_command(parser: Any, argv: list[str]) -> int:
    """``airflow *argv`` as Airflow's ``__main__`` runs it; its exit status."""
    from airflow.configuration import write_default_airflow_configuration_if_needed

    try:
        args = parser.parse_args(argv)
        write_default_airflow_configuration_if_needed()
        args.func(args)
    except SystemExit as exit:
        return exit_code(exit)
    except BaseException:  # what would end an `airflow` process ends this command only
        traceback.print_exc()
        return 1
    return 0


def serve(requests: IO[str], answers: IO[str]) -> None:
    # configuration first, as airflow's __main__ does (it avoids import cycles in settings).
    from airflow import configuration  # noqa: F401 -- imported for its side effect
    from airflow.cli import cli_parser

    from scones.botocore_loader import share_data_loader

    share_data_loader()  # every hook of every task makes a botocore session: parse its models once
    parser = cli_parser.get_parser()
    for line in requests:
        request = json.loads(line)
        with output_to(Path(request["log"])):
            code = run_command(parser, request["argv"])
        answers.write(json.dumps({"returncode": code}) + "\n")
        answers.flush()


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        sys.exit("usage: python -m scones.localrun.airflow_runner RUNNER_LOG  (commands on stdin)")
    answers = os.fdopen(os.dup(1), "w")
    with open(argv[0], "ab") as log:  # stray output between commands must not reach the answers
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    serve(sys.stdin, answers)


if __name__ == "__main__":
    main(sys.argv[1:])
