"""The persistence's parts that need no emulator: its seams, what it pickles, what counts as a read."""

from __future__ import annotations

import collections
import pickle
import threading
import weakref

import pytest

from scones.emulator._seams import SeamMoved
from scones.emulator.persistence import seams
from scones.emulator.persistence.layout import StateDir, StateRefused, expected_manifest
from scones.emulator.persistence.pickling import dumps
from scones.emulator.persistence.requests import is_read


def test_seams_are_where_the_persistence_expects_them() -> None:
    seams.check_seams()


def test_a_moved_seam_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.s3.utils import _VersionedKeyStore

    monkeypatch.delattr(_VersionedKeyStore, "setlist")
    with pytest.raises(SeamMoved, match="_VersionedKeyStore.setlist is gone"):
        seams.check_seams()


class _Holder:
    pass


def test_running_things_come_back_new_and_state_comes_back_whole() -> None:
    owner = _Holder()
    held = _Holder()
    held.lock, held.rlock, held.event, held.cond = (
        threading.Lock(),
        threading.RLock(),
        threading.Event(),
        threading.Condition(),
    )
    held.event.set()
    held.lock.acquire()  # held at the snapshot: a new one after the load
    held.index = weakref.WeakValueDictionary({"fn": owner})
    held.owner = owner
    held.aliases = collections.defaultdict(lambda: {}, {"a": {"x": 1}})
    held.thread = threading.Thread(target=lambda: None)
    loaded = pickle.loads(dumps(held))
    assert loaded.lock.acquire(blocking=False) and loaded.rlock.acquire(blocking=False)
    assert loaded.event.is_set() and isinstance(loaded.cond, threading.Condition)
    assert loaded.index["fn"] is loaded.owner  # the weak index keeps its entries (their owner is pickled too)
    assert loaded.aliases == {"a": {"x": 1}} and loaded.aliases["new"] == {}
    assert loaded.thread is None


def test_a_defaultdict_factory_that_makes_state_is_refused_not_guessed() -> None:
    with pytest.raises(pickle.PicklingError):
        dumps(collections.defaultdict(lambda: {"default": 1}))


@pytest.mark.parametrize(
    ("method", "path", "target", "read"),
    [
        ("GET", "/bucket/key", "", True),
        ("PUT", "/bucket/key", "", False),
        ("POST", "/", "SageMaker.DescribeEndpoint", True),
        ("POST", "/", "SageMaker.CreateEndpoint", False),
        ("POST", "/", "AmazonSQS.ReceiveMessage", False),  # changes receipt state
        ("POST", "/2015-03-31/functions/f/invocations", "", True),
        ("POST", "/", "", False),  # a query-protocol request (IAM, SNS): checked, written if changed
    ],
)
def test_what_counts_as_a_read(method: str, path: str, target: str, read: bool) -> None:
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, **({"HTTP_X_AMZ_TARGET": target} if target else {})}
    assert is_read(environ) is read


def test_a_non_empty_folder_without_a_manifest_is_refused(tmp_path) -> None:
    (tmp_path / "photos").mkdir()
    with pytest.raises(StateRefused, match="not a local AWS state folder"):
        StateDir(tmp_path).open()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photos"], "a folder that is not ours is left as it was"


def test_a_new_folder_gets_this_versions_manifest(tmp_path) -> None:
    import json

    StateDir(tmp_path / "state").open().close()
    assert json.loads((tmp_path / "state" / "manifest.json").read_text()) == expected_manifest()


_SHORT_WRITE = """
import os, resource, sys
from scones.emulator.persistence.layout import write_atomically
path = sys.argv[1]
write_atomically(path, b"good" * 1000)
resource.setrlimit(resource.RLIMIT_FSIZE, (6000, 6000))  # a disk nearly full, as a file-size limit
try:
    write_atomically(path, b"new!" * 4000)
except OSError as exc:
    print("refused", exc.errno)
else:
    print("written")
"""


def test_a_short_write_leaves_the_old_file_whole_and_no_temporary(tmp_path) -> None:
    import subprocess
    import sys

    path = tmp_path / "backend.pickle"
    ran = subprocess.run([sys.executable, "-c", _SHORT_WRITE, str(path)], capture_output=True, text=True, check=True)
    assert ran.stdout.startswith("refused"), ran.stdout
    assert path.read_bytes() == b"good" * 1000, "a truncated file was renamed over the good one"
    assert [p.name for p in tmp_path.iterdir()] == ["backend.pickle"], "the temporary file is left behind"


def test_the_state_folder_and_its_files_are_private(tmp_path) -> None:
    import os
    import stat

    from scones.emulator.persistence import s3_objects

    old_umask = os.umask(0o002)  # a umask that makes group-writable files
    try:
        state = StateDir(tmp_path / "state")
        state.open().close()
        blob = s3_objects.Blob(state.blobs / "body", exists=False)
        blob.write(b"a secret")
    finally:
        os.umask(old_umask)
    for folder in (state.root, state.backends, state.root / "s3", state.keys, state.blobs):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for file in (state.root / "manifest.json", state.root / "emulator.lock", state.blobs / "body"):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file


def test_a_folder_others_can_write_is_refused(tmp_path) -> None:
    StateDir(tmp_path / "state").open().close()
    (tmp_path / "state").chmod(0o777)
    with pytest.raises(StateRefused, match="writable by others .*chmod go-w"):
        StateDir(tmp_path / "state").open()
    (tmp_path / "state").chmod(0o700)
    (tmp_path / "state" / "backends").chmod(0o770)
    with pytest.raises(StateRefused, match="backends is writable by others"):
        StateDir(tmp_path / "state").open()


def test_a_folder_of_another_user_is_refused(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    StateDir(tmp_path / "state").open().close()
    me = os.geteuid()
    monkeypatch.setattr(os, "geteuid", lambda: me + 1)
    with pytest.raises(StateRefused, match="owned by another user"):
        StateDir(tmp_path / "state").open()


def test_the_default_state_folder_is_the_projects_or_the_users_never_the_working_directory(
    tmp_path, monkeypatch
) -> None:
    from scones.emulator.cli import default_state_dir

    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "pyproject.toml").write_text("")
    assert default_state_dir(tmp_path / "project") == tmp_path / "project" / ".local" / "aws-state"
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert (
        default_state_dir(tmp_path / "site-packages") == tmp_path / "home" / ".local" / "share" / "scones" / "aws-state"
    )


@pytest.mark.parametrize(
    ("service", "modules"),
    [
        ("sqs", {"sqs"}),
        ("sns", {"sns", "sqs"}),  # SNS delivers to SQS before it answers
        ("lambda", {"awslambda"}),
        ("moto_api", None),  # the emulator's own control routes: everything
    ],
)
def test_a_request_pickles_its_services_state_only(service: str, modules: set[str] | None) -> None:
    from scones.emulator.persistence.backends import modules_of

    assert modules_of(service) == modules


def test_a_folder_written_by_other_emulator_code_is_refused(tmp_path) -> None:
    import json

    StateDir(tmp_path / "state").open().close()
    manifest = tmp_path / "state" / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "emulator_code": "0123456789abcdef"}))
    with pytest.raises(StateRefused, match=r"emulator_code '0123456789abcdef'.*--ephemeral"):
        StateDir(tmp_path / "state").open()


def test_the_emulator_fingerprint_changes_with_its_source(tmp_path) -> None:
    from scones.emulator.persistence.layout import emulator_fingerprint

    (tmp_path / "s3").mkdir()
    (tmp_path / "s3" / "models.py").write_text("class FakeKey: pass\n")
    before = emulator_fingerprint(tmp_path)
    assert emulator_fingerprint(tmp_path) == before
    (tmp_path / "s3" / "models.py").write_text("class FakeKey:\n    size = 0\n")
    assert emulator_fingerprint(tmp_path) != before


@pytest.mark.parametrize(
    ("query", "read"),
    [
        ("Action=CreateQueue&QueueName=q", False),  # the query protocol takes a mutation as a GET too
        ("Action=Publish&TopicArn=t&Message=m", False),
        ("Action=ListQueues", True),
        ("prefix=datasets/", True),
    ],
)
def test_a_get_is_classified_by_its_action(query: str, read: bool) -> None:
    assert is_read({"REQUEST_METHOD": "GET", "PATH_INFO": "/", "QUERY_STRING": query}) is read


def test_temporary_files_left_by_a_crash_are_removed(tmp_path) -> None:
    state = StateDir(tmp_path / "state")
    state.open().close()
    (state.keys / "123456789012" / "bucket").mkdir(parents=True)
    left = [
        state.backends / ".moto.sqs.models.sqs_backends.pickle.140.tmp",
        state.keys / "123456789012" / "bucket" / ".0a1b.pickle.141.tmp",
        state.root / ".manifest.json.142.tmp",
    ]
    for path in left:
        path.write_bytes(b"half")
    (state.backends / "moto.sqs.models.sqs_backends.pickle").write_bytes(b"kept")
    assert state.remove_temporaries() == 3
    assert not any(path.exists() for path in left)
    assert (state.backends / "moto.sqs.models.sqs_backends.pickle").exists()


def test_an_execution_saved_between_its_end_event_and_its_status_keeps_its_end() -> None:
    """moto adds ExecutionSucceeded to the history, then sets the status: a snapshot between the two
    holds a RUNNING execution whose history ended. Recovery failed it (an ExecutionFailed after the
    ExecutionSucceeded a client may have read); it keeps the end its history gives."""
    import json
    import time

    import boto3
    from moto import mock_aws
    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    from scones.emulator.persistence.recovery import recover_stepfunctions

    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "Result": {"ok": 1}, "End": True}}}
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        machine = sfn.create_state_machine(
            name="ends", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/sfn"
        )["stateMachineArn"]
        arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
        deadline = time.monotonic() + 30
        while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        ended = sfn.describe_execution(executionArn=arn)
        backend = stepfunctions_parser_backends["123456789012"]["us-east-1"]
        execution = next(e for m in backend.state_machines for e in m.executions if e.exec_arn == arn)
        # the state a snapshot taken between the terminal event and the status holds
        execution.exec_status, execution.stop_date, execution.output = ExecutionStatus.RUNNING, None, None

        assert recover_stepfunctions() == 0
        kept = sfn.describe_execution(executionArn=arn)
        assert (kept["status"], kept["output"]) == ("SUCCEEDED", ended["output"])
        assert json.loads(kept["output"]) == {"ok": 1}
        events = sfn.get_execution_history(executionArn=arn)["events"]
        assert [e["type"] for e in events][-1] == "ExecutionSucceeded"
        assert "ExecutionFailed" not in [e["type"] for e in events]
        assert kept["stopDate"] == events[-1]["timestamp"]


def test_a_folder_on_a_filesystem_without_permissions_is_refused_saying_where_to_go(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WSL's /mnt/c (drvfs without metadata) shows every folder 0777 and ignores chmod: `chmod go-w`,
    which the refusal advised, cannot help there."""
    import os

    root = tmp_path / "state"
    root.mkdir()
    root.chmod(0o777)
    monkeypatch.setattr(os, "chmod", lambda *args, **kwargs: None)
    monkeypatch.setattr(os, "fchmod", lambda *args, **kwargs: None)
    with pytest.raises(StateRefused) as refused:
        StateDir(root).open()
    message = str(refused.value)
    assert "does not keep POSIX permissions" in message and "chmod go-w" not in message
    assert "--state-dir" in message and "--ephemeral" in message and "mounted at /" in message
    assert [p.name for p in root.iterdir()] == []  # no probe file left behind


def test_a_filesystem_that_refuses_chmod_is_no_traceback(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FAT mounted without ``quiet`` answers chmod with EPERM: a new folder the mount shows private
    is used (its mode is what the mount options give); before, the start died on PermissionError."""
    import os

    def refuse(*args, **kwargs):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "chmod", refuse)
    monkeypatch.setattr(os, "fchmod", refuse)
    StateDir(tmp_path / "state").open().close()
    assert (tmp_path / "state" / "manifest.json").exists()
