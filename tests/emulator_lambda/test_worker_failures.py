"""Workers that misbehave or die, and functions triggered by other services."""

from __future__ import annotations

import os
import signal
import time
import uuid

import psutil

from tests.emulator_lambda.functions import payload


def processes_with(marker: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if marker in " ".join(process.info["cmdline"] or []):
            found.append(process)
    return found


def test_a_worker_that_exits_takes_what_it_started_with_it(deploy_function, lambda_client):
    marker = f"{time.time() % 1000:.6f}"[-6:]  # sleep's argument: a duration unique to this test
    name = deploy_function(f"""
        import os, subprocess

        def handler(event, context):
            subprocess.Popen(["sleep", "3{marker}"])
            os._exit(1)
    """)

    error = payload(lambda_client.invoke(FunctionName=name))

    assert error["errorType"] == "Runtime.ExitError" and "exit status 1" in error["errorMessage"]
    deadline = time.monotonic() + 5
    while leftovers := processes_with(f"sleep 3{marker}"):
        assert time.monotonic() < deadline, f"the function's child outlived its worker: {leftovers}"
        time.sleep(0.1)


PID = """
    import os

    def handler(event, context):
        return os.getpid()
"""


def wait_until_dead(pid: int, timeout: float = 5) -> None:
    """Until ``pid`` is gone or a zombie (the emulator, its parent, reaps it only when it looks)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} did not die")


def test_a_warm_worker_that_died_idle_is_replaced_not_reported(deploy_function, lambda_client):
    """The OOM killer or a crash in a C extension between requests: the next request must run."""
    name = deploy_function(PID)
    first = payload(lambda_client.invoke(FunctionName=name))
    os.kill(first, signal.SIGKILL)
    wait_until_dead(first)

    response = lambda_client.invoke(FunctionName=name)

    assert "FunctionError" not in response, payload(response)
    assert payload(response) != first


def test_a_signal_without_a_name_is_reported_by_number(deploy_function, lambda_client):
    name = deploy_function("""
        import os

        def handler(event, context):
            os.kill(os.getpid(), 40)  # a real-time signal: terminates, and Python has no name for it
    """)
    error = payload(lambda_client.invoke(FunctionName=name))
    assert error["errorType"] == "Runtime.ExitError"
    assert error["errorMessage"].endswith("Runtime exited with error: signal: signal 40")


WRITES_ITS_EVENT = """
    import json, urllib.parse, boto3

    def handler(event, context):
        record = event["Records"][0]
        # An S3 event's key is URL-encoded (AWS's examples unquote it so).
        body = record["Sns"]["Message"] if "Sns" in record else urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        boto3.client("s3").put_object(Bucket="{bucket}", Key="seen/" + body, Body=json.dumps(event).encode())
"""


def wait_for_key(s3, bucket: str, key: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount", 0) == 0:
        assert time.monotonic() < deadline, f"the function never ran: no s3://{bucket}/{key}"
        time.sleep(0.2)


def test_an_sns_subscription_runs_the_function(emulator_session, deploy_function):
    bucket = f"sns-to-lambda-{uuid.uuid4().hex[:8]}"
    s3, sns = emulator_session.client("s3"), emulator_session.client("sns")
    s3.create_bucket(Bucket=bucket)
    name = deploy_function(WRITES_ITS_EVENT.replace("{bucket}", bucket))
    function_arn = emulator_session.client("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    topic = sns.create_topic(Name=f"topic-{name}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function_arn)

    started = time.monotonic()
    sns.publish(TopicArn=topic, Message="hello")

    assert time.monotonic() - started < 1.0, "Publish must not wait for the function (it is asynchronous)"
    wait_for_key(s3, bucket, "seen/hello")


def test_an_s3_notification_runs_the_function(emulator_session, deploy_function):
    bucket = f"s3-to-lambda-{uuid.uuid4().hex[:8]}"
    s3 = emulator_session.client("s3")
    s3.create_bucket(Bucket=bucket)
    name = deploy_function(WRITES_ITS_EVENT.replace("{bucket}", bucket))
    function_arn = emulator_session.client("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "LambdaFunctionArn": function_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}},
                }
            ],
        },
    )

    s3.put_object(Bucket=bucket, Key="in/photo.png", Body=b"x")

    wait_for_key(s3, bucket, "seen/in/photo.png")
