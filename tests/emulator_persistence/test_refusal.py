"""A state folder the emulator cannot load is refused at start, naming why, and left as it was.

Refused: a folder written by another moto (or project, or format) version; a corrupt file
(the message names it); a folder another emulator holds. ``--ephemeral`` or a new folder
gets the user going.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scones.emulator import EmulatorProcess
from scones.emulator.process import EmulatorFailedToStart


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def saved_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a bucket with an object and an SQS queue, written by a clean stop."""
    folder = tmp_path_factory.mktemp("saved") / "aws-state"
    with EmulatorProcess(state_dir=folder) as emu:
        session = emu.session()
        session.client("s3").create_bucket(Bucket="kept-bucket")
        session.client("s3").put_object(Bucket="kept-bucket", Key="a.txt", Body=b"kept")
        session.client("sqs").create_queue(QueueName="kept-queue")
    return folder


def _copy(source: Path, target: Path) -> Path:
    import shutil

    shutil.copytree(source, target)
    return target


def _refused(folder: Path) -> str:
    before = _snapshot(folder)
    with pytest.raises(EmulatorFailedToStart) as refused:
        EmulatorProcess(state_dir=folder).start()
    assert _snapshot(folder) == before, "a refused folder was changed"
    return str(refused.value)


def test_a_folder_from_another_moto_version_is_refused(saved_state: Path, tmp_path: Path) -> None:
    folder = _copy(saved_state, tmp_path / "old")
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "moto": "5.0.0"}))
    message = _refused(folder)
    assert "written by another version" in message and "moto '5.0.0'" in message
    assert "--ephemeral" in message


def test_a_corrupt_backend_file_is_refused_naming_it(saved_state: Path, tmp_path: Path) -> None:
    folder = _copy(saved_state, tmp_path / "corrupt")
    damaged = folder / "backends" / "moto.sqs.models.sqs_backends.pickle"
    damaged.write_bytes(damaged.read_bytes()[: len(damaged.read_bytes()) // 2])
    message = _refused(folder)
    assert str(damaged) in message and "corrupt" in message


def test_a_corrupt_object_record_is_refused_naming_it(saved_state: Path, tmp_path: Path) -> None:
    folder = _copy(saved_state, tmp_path / "corrupt-key")
    (record,) = (folder / "s3" / "keys").rglob("*.pickle")
    record.write_bytes(b"not a pickle")
    message = _refused(folder)
    assert str(record) in message


def test_a_folder_in_use_is_refused_and_the_saved_state_loads(saved_state: Path, tmp_path: Path) -> None:
    folder = _copy(saved_state, tmp_path / "shared")
    with EmulatorProcess(state_dir=folder) as emu:
        assert emu.session().client("s3").get_object(Bucket="kept-bucket", Key="a.txt")["Body"].read() == b"kept"
        with pytest.raises(EmulatorFailedToStart, match="in use by another local AWS emulator"):
            EmulatorProcess(state_dir=folder).start()
