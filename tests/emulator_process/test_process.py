"""The emulator as a process of its own: it serves, and stops cleanly on SIGTERM and on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys

import boto3

from scones.emulator import EmulatorProcess


def test_emulator_process_serves_s3_and_stops():
    with EmulatorProcess() as emu:
        s3 = emu.session().client("s3")
        s3.create_bucket(Bucket="scones-process-test")
        s3.put_object(Bucket="scones-process-test", Key="k", Body=b"v")
        assert s3.get_object(Bucket="scones-process-test", Key="k")["Body"].read() == b"v"
        proc = emu._proc
    assert proc is not None and proc.returncode == 0, "SIGTERM must stop the emulator cleanly (exit 0)"
    assert "local AWS stopped" in emu.output


def test_local_aws_stops_on_ctrl_c():
    proc = subprocess.Popen(
        [sys.executable, "-m", "scones.cli", "local-aws", "--port", "0", "--ephemeral"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    ready = next(line for line in proc.stdout if line.startswith("local AWS ready at"))
    url = ready.split()[-1]
    assert url.startswith("http://127.0.0.1:")
    boto3.client("s3", endpoint_url=url, region_name="us-east-1").list_buckets()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0 and "local AWS stopped" in out
