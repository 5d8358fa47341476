"""The stack's guard (scones.localrun.guard): what it kills once the stack's process is gone, and
what it leaves alone when the stack stopped itself. With the stack killed -9 for real:
tests/e2e/test_stack_processes.py."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from scones.localrun.guard import Guard, guard

#: A component that takes its death signal (SIGTERM) and does not end, as a hung worker did.
STUBBORN = [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, lambda *_: None); time.sleep(60)"]


@pytest.fixture
def stubborn():
    proc = subprocess.Popen(STUBBORN, start_new_session=True)
    yield proc
    proc.kill()
    proc.wait()


def test_a_group_that_outlives_the_stack_is_killed_after_the_grace(stubborn):
    guard([f"+{stubborn.pid} {int(signal.SIGTERM)}"], grace=0.5)  # the lines end: the stack died
    assert stubborn.wait(timeout=5) == -signal.SIGKILL


@pytest.mark.parametrize("after", [["stop"], ["-{pid}"]], ids=["stack stopped", "group stopped"])
def test_nothing_is_killed_when_the_stack_stopped_it(stubborn, after):
    guard([f"+{stubborn.pid} 15", *(line.format(pid=stubborn.pid) for line in after)], grace=0.5)
    with pytest.raises(subprocess.TimeoutExpired):
        stubborn.wait(timeout=0.5)


def test_the_guard_process_ends_with_the_stacks_stop_and_kills_nothing(stubborn):
    keeper = Guard(grace=0.5)
    keeper.watch(stubborn.pid, signal.SIGTERM)
    guard_proc = keeper._proc
    keeper.close()
    assert guard_proc.returncode == 0
    with pytest.raises(subprocess.TimeoutExpired):
        stubborn.wait(timeout=1)


def test_the_guard_process_kills_the_group_when_its_stack_is_gone(stubborn):
    """Its stdin ends when the stack's process does, however it died."""
    keeper = Guard(grace=0.5)
    keeper.watch(stubborn.pid, signal.SIGTERM)
    keeper._proc.stdin.close()  # what the kernel does to a process killed -9
    assert stubborn.wait(timeout=15) == -signal.SIGKILL
    assert keeper._proc.wait(timeout=15) == 0
