"""The stack's last resort when its own process dies without stopping it (``kill -9``).

Each server and component runs in a session of its own and gets a death signal
(:mod:`scones.pdeathsig`), but a process can take its signal and not end: a Celery worker's cold
shutdown once hung ("Timer thread in prefork on_stop() did not terminate cleanly") and the worker
stayed, orphaned. And off Linux no death signal comes at all.

The guard (``python -m scones.localrun.guard GRACE``) runs in a session of its own and reads the
stack's process groups from its stdin, a pipe that only the stack's process holds: ``+PGID SIGNAL``
for a group started (SIGNAL: its death signal), ``-PGID`` for a group stopped, ``stop`` once the
stack has stopped everything. When stdin ends without ``stop``, the stack's process is gone: the
guard gives each group up to GRACE seconds to end (off Linux, sending it its death signal first),
then SIGKILLs what is left of it, and exits.

A group's id is its leader's pid, which the kernel gives no new process while a member of the group
lives; only a whole group that ended within GRACE and whose number a new session took at once
could be mistaken, which the pid space makes unlikely enough to accept.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from scones import pdeathsig

#: Seconds a group has to end on its death signal (PostgreSQL checkpoints, a worker's cold shutdown).
GRACE = 10.0


class Guard:
    """The stack's side: starts the guard process at the first group it is told of."""

    def __init__(self, grace: float = GRACE) -> None:
        self.grace = grace
        self._proc: subprocess.Popen[str] | None = None

    def watch(self, pgid: int, death_signal: int) -> None:
        if self._proc is None:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", __name__, str(self.grace)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                text=True,
                start_new_session=True,  # no Ctrl-C of the stack's terminal reaches it
            )
        self._send(f"+{pgid} {int(death_signal)}")

    def forget(self, pgid: int) -> None:
        self._send(f"-{pgid}")

    def close(self) -> None:
        """The stack stopped everything itself: the guard exits and kills nothing."""
        if self._proc is None:
            return
        self._send("stop")
        try:
            self._proc.stdin.close()  # type: ignore[union-attr]
        except BrokenPipeError:
            pass
        self._proc.wait()
        self._proc = None

    def _send(self, line: str) -> None:
        if self._proc is None:
            return
        try:
            self._proc.stdin.write(line + "\n")  # type: ignore[union-attr]
            self._proc.stdin.flush()  # type: ignore[union-attr]
        except BrokenPipeError:  # the guard died: the death signals are what is left
            pass


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # PostgreSQL as 'nobody' while the guard is not root: nothing it can do
        return False
    return True


def guard(lines, grace: float) -> None:
    """Read the stack's groups from ``lines``; when they end without ``stop``, end the groups."""
    groups: dict[int, int] = {}
    for line in lines:
        words = line.split()
        if words == ["stop"]:
            return
        if words and words[0].startswith("+"):
            groups[int(words[0][1:])] = int(words[1])
        elif words and words[0].startswith("-"):
            groups.pop(int(words[0][1:]), None)
    if not pdeathsig.supported():
        for pgid, sig in groups.items():
            _kill(pgid, sig, group=False)  # what the death signal would have done
    deadline = time.monotonic() + grace
    while any(_alive(g) for g in groups) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pgid in groups:
        _kill(pgid, signal.SIGKILL, group=True)


def _kill(pgid: int, sig: int, group: bool) -> None:
    try:
        (os.killpg if group else os.kill)(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    guard(sys.stdin, float(sys.argv[1]))
