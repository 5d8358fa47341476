"""``python -m scones.pdeathsig PARENT_PID SIGNAL [--user UID] -- CMD...``: run CMD so
that it gets SIGNAL when process PARENT_PID (the one that started it) dies, even by ``kill -9``.

An exec shim rather than a ``preexec_fn``: a ``preexec_fn`` runs Python between fork and exec,
which is unsafe in a parent with threads (the emulator's output reader runs while the stack
forks PostgreSQL, Redis and Airflow). Linux only (PR_SET_PDEATHSIG).

The signal's disposition is reset to its default and the signal unblocked before the exec: both
are inherited through fork and exec, and a stack started as a background job of a script
(``scones up &``: the shell ignores SIGINT and SIGQUIT there) would otherwise pass on an ignored
SIGQUIT to its Celery worker, which then outlived a stack killed -9.

``--user``: drop to that uid (and its gid, no extra groups) *before* asking for the signal: the
kernel clears the request on any change of credentials (and on exec of a set-uid binary).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def ask_for_signal(sig: int) -> None:
    """PR_SET_PDEATHSIG for this process; OSError when the kernel refuses."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == -1:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_PDEATHSIG): {os.strerror(errno)}")


def main(argv: list[str]) -> None:
    try:
        split = argv.index("--")
        parent, sig, *options = argv[:split]
        cmd = argv[split + 1 :]
        user = int(options[1]) if options[:1] == ["--user"] and len(options) == 2 else None
        if not cmd or (options and user is None):
            raise ValueError
        parent_pid, signum = int(parent), int(sig)
    except ValueError:
        sys.exit("usage: python -m scones.pdeathsig PARENT_PID SIGNAL [--user UID] -- CMD...")
    if user is not None:
        os.setgroups([])
        os.setgid(user)
        os.setuid(user)
    signal.signal(signum, signal.SIG_DFL)  # a handler is reset by exec; an ignored signal is not
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
    ask_for_signal(signum)
    if os.getppid() != parent_pid:  # the parent died before the request: no signal will come
        sys.exit(1)
    os.execvp(cmd[0], cmd)


def supported() -> bool:
    return sys.platform.startswith("linux")


def wrap(cmd: list[str], sig: int = signal.SIGTERM, user: int | None = None) -> list[str]:
    """``cmd`` run through this shim, for a child of this process started from this thread (the
    signal follows the death of the forking *thread*). Linux only: see :func:`supported`."""
    return [
        sys.executable,
        "-m",
        __name__,
        str(os.getpid()),
        str(int(sig)),
        *(["--user", str(user)] if user is not None else []),
        "--",
        *cmd,
    ]


if __name__ == "__main__":
    main(sys.argv[1:])
