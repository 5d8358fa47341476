"""Lambda Invoke on the emulator runs the function's real code, answering as Lambda does."""

from __future__ import annotations

import base64
import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from tests.emulator_lambda.functions import payload, zip_source

READS_S3_AND_ENVIRONMENT = """
    import os
    import boto3

    def handler(event, context):
        # No endpoint here: boto3 finds the emulator through AWS_ENDPOINT_URL, as on AWS it finds AWS.
        body = boto3.client("s3").get_object(Bucket=os.environ["BUCKET"], Key=event["key"])["Body"].read()
        numbers = [int(n) for n in body.split()]
        return {"total": sum(numbers) * int(os.environ["FACTOR"]), "count": len(numbers),
                "function": context.function_name, "region": os.environ["AWS_REGION"]}
"""

RAISES_NAMED_ERROR = """
    class ThresholdConfidenceNotMet(Exception):
        pass

    def handler(event, context):
        print("checking", event["confidence"])
        raise ThresholdConfidenceNotMet(f"confidence {event['confidence']} is below 0.93")
"""

SLEEPS = """
    import time

    def handler(event, context):
        print("sleeping", event["seconds"], flush=True)
        time.sleep(event["seconds"])
        return {"slept": event["seconds"], "remaining_ms": context.get_remaining_time_in_millis()}
"""

COUNTS_INVOCATIONS = """
    import logging
    import os

    logging.getLogger().setLevel(logging.INFO)
    INVOCATIONS = 0
    print("module imported")

    def handler(event, context):
        global INVOCATIONS
        INVOCATIONS += 1
        logging.info("invocation %s", INVOCATIONS)
        return {"invocations": INVOCATIONS, "pid": os.getpid(), "version": "VERSION",
                "colour": os.environ.get("COLOUR")}
"""


V2_CODE = zip_source({"app.py": COUNTS_INVOCATIONS.replace("VERSION", "v2")})


def test_function_reads_its_environment_and_an_s3_object(emulator_session, deploy_function, lambda_client):
    s3 = emulator_session.client("s3")
    s3.create_bucket(Bucket="lambda-reads-s3")
    s3.put_object(Bucket="lambda-reads-s3", Key="numbers.txt", Body=b"1 2 3 4")
    environment = {"Variables": {"BUCKET": "lambda-reads-s3", "FACTOR": "10"}}
    name = deploy_function(READS_S3_AND_ENVIRONMENT, Environment=environment)

    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps({"key": "numbers.txt"}))

    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    assert payload(response) == {"total": 100, "count": 4, "function": name, "region": "us-east-1"}


def test_handler_exception_comes_back_as_lambda_reports_it(deploy_function, lambda_client):
    name = deploy_function(RAISES_NAMED_ERROR)

    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps({"confidence": 0.5}), LogType="Tail")

    assert response["StatusCode"] == 200  # the invocation worked; the function failed
    assert response["FunctionError"] == "Unhandled"
    error = payload(response)
    assert error["errorType"] == "ThresholdConfidenceNotMet"  # what a Retry/Catch matches
    assert error["errorMessage"] == "confidence 0.5 is below 0.93"
    assert len(error["stackTrace"]) == 1 and "in handler" in error["stackTrace"][0]
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "checking 0.5" in tail
    assert "[ERROR] ThresholdConfidenceNotMet: confidence 0.5 is below 0.93" in tail


def test_function_that_outlives_its_timeout_is_stopped(deploy_function, lambda_client):
    name = deploy_function(SLEEPS, Timeout=1)

    started = time.monotonic()
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps({"seconds": 30}), LogType="Tail")
    elapsed = time.monotonic() - started

    assert elapsed < 10, "the emulator must stop the function at its 1 s timeout"
    assert response["FunctionError"] == "Unhandled"
    error = payload(response)
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Task timed out after 1.00 seconds")
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "sleeping 30" in tail and "Status: timeout" in tail
    # The killed worker is replaced: the function still answers.
    assert payload(lambda_client.invoke(FunctionName=name, Payload=json.dumps({"seconds": 0})))["slept"] == 0


def test_context_reports_the_remaining_time(deploy_function, lambda_client):
    name = deploy_function(SLEEPS, Timeout=5)
    remaining = payload(lambda_client.invoke(FunctionName=name, Payload=json.dumps({"seconds": 1})))["remaining_ms"]
    assert 2000 < remaining < 4100


def test_warm_worker_keeps_module_state_between_invocations(deploy_function, lambda_client):
    name = deploy_function(COUNTS_INVOCATIONS)

    first = lambda_client.invoke(FunctionName=name, LogType="Tail")
    second = lambda_client.invoke(FunctionName=name, LogType="Tail")

    one, two = payload(first), payload(second)
    assert (one["invocations"], two["invocations"]) == (1, 2)
    assert one["pid"] == two["pid"], "the second invocation must reuse the warm worker"
    cold, warm = (base64.b64decode(r["LogResult"]).decode() for r in (first, second))
    assert "Init Duration" in cold and "Init Duration" not in warm
    assert "invocation 2" in warm


def test_updated_code_and_configuration_take_effect(deploy_function, lambda_client):
    name = deploy_function(COUNTS_INVOCATIONS)
    before = payload(lambda_client.invoke(FunctionName=name))

    lambda_client.update_function_code(FunctionName=name, ZipFile=V2_CODE)
    after_code = payload(lambda_client.invoke(FunctionName=name))
    lambda_client.update_function_configuration(FunctionName=name, Environment={"Variables": {"COLOUR": "blue"}})
    after_config = payload(lambda_client.invoke(FunctionName=name))

    assert (before["version"], after_code["version"]) == ("VERSION", "v2")
    assert after_code["pid"] != before["pid"] and after_code["invocations"] == 1, "new code, new worker"
    assert after_config["colour"] == "blue" and after_config["pid"] != after_code["pid"]


def test_published_version_runs_its_own_code(deploy_function, lambda_client):
    name = deploy_function(COUNTS_INVOCATIONS)
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.update_function_code(FunctionName=name, ZipFile=V2_CODE)

    published = lambda_client.invoke(FunctionName=name, Qualifier=version, Payload=b'{"qualifier": "$LATEST"}')
    latest = lambda_client.invoke(FunctionName=name)

    assert (published["ExecutedVersion"], payload(published)["version"]) == (version, "VERSION")
    assert (latest["ExecutedVersion"], payload(latest)["version"]) == ("$LATEST", "v2")


def test_concurrent_invocations_run_in_parallel_up_to_the_bound(deploy_function, lambda_client, lambda_config):
    name = deploy_function(SLEEPS)

    def burst(count: int) -> float:
        started = time.monotonic()
        with ThreadPoolExecutor(count) as pool:
            results = list(
                pool.map(lambda _: lambda_client.invoke(FunctionName=name, Payload=b'{"seconds": 1}'), range(count))
            )
        assert all("FunctionError" not in r for r in results)
        return time.monotonic() - started

    burst(4)  # start four workers, so the timings below are warm
    assert burst(4) < 2.5, "four 1 s invocations must overlap (one after another takes 4 s)"
    lambda_config(max_concurrency=2)
    assert burst(4) >= 2.0, "with max_concurrency=2, four 1 s invocations take two rounds"


def test_event_invocation_returns_at_once_and_runs_in_the_background(emulator_session, deploy_function, lambda_client):
    s3 = emulator_session.client("s3")
    s3.create_bucket(Bucket="lambda-event-invocations")
    name = deploy_function(
        """
        import time
        import boto3

        def handler(event, context):
            time.sleep(3)
            boto3.client("s3").put_object(Bucket="lambda-event-invocations", Key=event["key"], Body=b"done")
    """,
        Timeout=10,
    )

    started = time.monotonic()
    response = lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"key": "k1"}))

    assert response["StatusCode"] == 202 and time.monotonic() - started < 2.5, "Event must not wait for the 3 s run"
    deadline = time.monotonic() + 15
    while "Contents" not in s3.list_objects_v2(Bucket="lambda-event-invocations"):
        assert time.monotonic() < deadline, "the event invocation never ran"
        time.sleep(0.2)


def test_output_goes_to_cloudwatch_logs(emulator_session, deploy_function, lambda_client):
    name = deploy_function(COUNTS_INVOCATIONS)
    lambda_client.invoke(FunctionName=name)
    lambda_client.invoke(FunctionName=name)

    logs = emulator_session.client("logs")
    (stream,) = logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]  # one warm worker
    messages = [
        e["message"]
        for e in logs.get_log_events(logGroupName=f"/aws/lambda/{name}", logStreamName=stream["logStreamName"])[
            "events"
        ]
    ]
    assert messages[0].startswith("INIT_START") and messages[1] == "module imported"
    starts = [m for m in messages if m.startswith("START RequestId: ")]
    reports = [m for m in messages if m.startswith("REPORT RequestId: ")]
    assert len(starts) == len(reports) == 2
    assert all(m.endswith("Version: $LATEST") for m in starts)
    assert "\tDuration: " in reports[0] and "\tMax Memory Used: " in reports[0]
    used = [int(re.search(r"\tMax Memory Used: (\d+) MB", m).group(1)) for m in reports]
    # A stdlib-only worker peaks near 12 MB: not 0, not a unit slip, not the emulator's own peak
    # (hundreds of MB; getrusage's ru_maxrss would report it, carried over exec).
    assert all(8 <= mb <= 64 for mb in used), used
    assert any(m.startswith("[INFO]\t") and m.endswith("invocation 2") for m in messages)
    assert stream["logStreamName"].split("]")[0].endswith("[$LATEST")


def test_import_error_fails_the_invocation_like_lambda(deploy_function, lambda_client):
    name = deploy_function("import not_a_module_anywhere\n")
    response = lambda_client.invoke(FunctionName=name)
    assert response["FunctionError"] == "Unhandled"
    error = payload(response)
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert "Unable to import module 'app'" in error["errorMessage"]


def test_unserializable_result_is_a_marshal_error(deploy_function, lambda_client):
    name = deploy_function("def handler(event, context):\n    return {1, 2}\n")
    error = payload(lambda_client.invoke(FunctionName=name))
    assert error["errorType"] == "Runtime.MarshalError"
    assert "set is not JSON serializable" in error["errorMessage"]


def test_non_python_runtime_fails_with_a_clear_error(deploy_function, lambda_client):
    name = deploy_function("exports.handler = async () => 1;", runtime="nodejs20.x", handler="index.handler")
    with pytest.raises(ClientError) as caught:
        lambda_client.invoke(FunctionName=name, Payload=b"{}")
    assert caught.value.response["Error"]["Code"] == "InvalidRuntimeException"
    assert "python runtimes only" in caught.value.response["Error"]["Message"]
    assert "nodejs20.x" in caught.value.response["Error"]["Message"]


def test_payload_must_be_json(deploy_function, lambda_client):
    name = deploy_function(SLEEPS)
    with pytest.raises(ClientError) as caught:
        lambda_client.invoke(FunctionName=name, Payload=b"not json")
    assert caught.value.response["Error"]["Code"] == "InvalidRequestContentException"


def test_a_request_over_6_mb_is_refused_as_lambda_refuses_it(deploy_function, lambda_client):
    name = deploy_function(SLEEPS)
    limit = 6 * 1024 * 1024
    # Characters are not bytes: 3.2 M two-byte characters are 6.4 MB.
    for too_big in (
        json.dumps({"a": "x" * limit}).encode(),
        json.dumps({"a": "é" * 3_200_000}, ensure_ascii=False).encode(),
    ):
        with pytest.raises(ClientError) as caught:
            lambda_client.invoke(FunctionName=name, Payload=too_big)
        assert caught.value.response["Error"]["Code"] == "RequestTooLargeException"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
        assert f"smaller than {limit} bytes" in caught.value.response["Error"]["Message"]


def test_deleting_a_function_stops_its_warm_workers(emulator_session):
    from tests.emulator_lambda.functions import deploy

    client = emulator_session.client("lambda")
    name = deploy(emulator_session, COUNTS_INVOCATIONS)
    pid = payload(client.invoke(FunctionName=name))["pid"]

    client.delete_function(FunctionName=name)

    deadline = time.monotonic() + 5
    while _running(pid):
        assert time.monotonic() < deadline, f"worker {pid} of the deleted function still runs"
        time.sleep(0.1)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_an_event_request_over_1_mb_is_refused_as_lambda_refuses_it(deploy_function, lambda_client):
    # Asynchronous invocations take at most 1 MB (Invoke's reference; 256 KB before late 2025), not 6.
    name = deploy_function(SLEEPS)
    limit = 1024 * 1024
    with pytest.raises(ClientError) as caught:
        lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"a": "x" * limit}).encode())
    assert caught.value.response["Error"]["Code"] == "RequestTooLargeException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert f"smaller than {limit} bytes" in caught.value.response["Error"]["Message"]
    fits = lambda_client.invoke(
        FunctionName=name, InvocationType="Event", Payload=json.dumps({"seconds": 0, "a": "x" * (limit - 100)})
    )
    assert fits["StatusCode"] == 202
