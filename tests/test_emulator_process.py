import boto3

from scones.emulator import EmulatorProcess


def test_emulator_process_serves_s3_and_stops():
    with EmulatorProcess() as emu:
        s3 = boto3.client("s3", endpoint_url=emu.endpoint_url, region_name="us-east-1")
        s3.create_bucket(Bucket="scones-process-test")
        s3.put_object(Bucket="scones-process-test", Key="k", Body=b"v")
        assert s3.get_object(Bucket="scones-process-test", Key="k")["Body"].read() == b"v"
        proc = emu._proc
    assert proc is not None and proc.poll() is not None, "the emulator must exit on stop()"
