"""Fixtures for the emulator's state folder: emulators of their own (each test kills or stops them).

Training here is the smallest that still makes a model (20 + 20 images, 2 epochs): what is
tested is that the job, its artifact and the endpoint serving it come back, not accuracy.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scones.emulator import EmulatorProcess


class Restartable:
    """One emulator on one state folder, killed, stopped and started again by the tests."""

    def __init__(self, state_dir: Path, env: dict[str, str] | None = None) -> None:
        self.state_dir = state_dir
        self.env = env  # the emulator's environment, the same at every start
        self.emulator = EmulatorProcess(state_dir=state_dir, env=env).start()

    def session(self, region: str = "us-east-1"):
        return self.emulator.session(region)

    def crash(self) -> None:
        """kill -9, then start again on the same folder (a new port: clients are made anew)."""
        self.emulator.kill()
        self.emulator = EmulatorProcess(state_dir=self.state_dir, env=self.env).start()

    def restart(self) -> None:
        """SIGTERM (a clean stop: the last snapshot written), then start again on the same folder."""
        self.emulator.stop()
        self.emulator = EmulatorProcess(state_dir=self.state_dir, env=self.env).start()

    def stop(self) -> None:
        self.emulator.stop()


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[Restartable]:
    world = Restartable(tmp_path / "aws-state")
    yield world
    world.stop()
