"""The emulator's rule for S3: every operation classified, the unclassified refused before moto answers
them as another operation, and the compute-bearing ones doing their work.

moto routes S3 by method and query string, not by an action name, so "the operations moto serves"
is found by walking its dispatch: each operation's request shape (botocore's model) goes through
moto's ``_bucket_response`` / ``_key_response`` with every handler, parser and backend call
replaced by a recorder, and the first one reached says which operation moto answers with. A moto
upgrade that serves a new operation fails the first test until ``scones.emulator.s3.operations``
classifies it.
"""

from __future__ import annotations

import datetime
import inspect
import json
import uuid
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, unquote_plus, urlparse

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.core.utils import camelcase_to_underscores
from moto.s3.responses import S3Response

from scones.emulator.s3 import operations

S3 = botocore.session.get_session().get_service_model("s3")

#: moto 5.2.5 answers these operations through a helper whose name is not the operation's.
MOTO_NAMES: dict[str, set[str]] = {
    "_complete_multipart_body": {"CompleteMultipartUpload"},
    "_tagging_from_headers": {"CreateMultipartUpload"},
    "_get_location_constraint": {"CreateBucket"},
    "_bucket_response_delete_keys": {"DeleteObjects"},
    "get_bucket_lifecycle": {"GetBucketLifecycle", "GetBucketLifecycleConfiguration"},
    "get_bucket_notification": {"GetBucketNotification", "GetBucketNotificationConfiguration"},
    "get_bucket_tags": {"GetBucketTagging"},
    "all_buckets": {"ListBuckets"},
    "_accelerate_config_from_body": {"PutBucketAccelerateConfiguration"},
    "_acl_from_headers": {"PutBucketAcl"},
    "_cors_from_body": {"PutBucketCors"},
    "_encryption_config_from_body": {"PutBucketEncryption"},
    "_inventory_config_from_body": {"PutBucketInventoryConfiguration"},
    "put_bucket_lifecycle": {"PutBucketLifecycle", "PutBucketLifecycleConfiguration"},
    "_logging_from_body": {"PutBucketLogging"},
    "_notification_config_from_body": {"PutBucketNotification", "PutBucketNotificationConfiguration"},
    "_ownership_rule_from_body": {"PutBucketOwnershipControls"},
    "_replication_config_from_xml": {"PutBucketReplication"},
    "_bucket_tagging_from_body": {"PutBucketTagging"},
    "_process_lock_config_from_body": {"PutObjectLockConfiguration"},
    "_parse_pab_config": {"PutPublicAccessBlock"},
}

#: The dispatch itself: run as moto has it. Everything else the dispatch calls is recorded.
DISPATCH = {
    "_bucket_response",
    "_bucket_response_get",
    "_bucket_response_put",
    "_bucket_response_delete",
    "_bucket_response_post",
    "_key_response",
    "_key_response_get",
    "_key_response_put",
    "_key_response_delete",
    "_key_response_post",
    "_get_querystring",
    "is_delete_keys",
    "_get_path",
    "_set_action",
}


class Reached(Exception):
    """moto's dispatch reached this handler, parser or backend method."""


class AnyXml(dict):
    """Whatever moto looks up in a parsed request body is there."""

    def __getitem__(self, key: str) -> AnyXml:
        return AnyXml()

    def __contains__(self, key: object) -> bool:
        return True

    def get(self, key: str, default: object = None) -> AnyXml:
        return AnyXml()


class RecordingBackend:
    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            if name in ("get_bucket", "get_object"):  # looked up on the way, before the operation
                return mock.MagicMock(object_lock_enabled=False, has_default_lock=False, multipart=None)
            raise Reached(name)

        return call


def _recorder(name: str) -> Any:
    def reached(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise Reached(name)

    return reached


Probe = type(
    "Probe",
    (S3Response,),
    {
        **{
            name: _recorder(name)
            for name, _ in inspect.getmembers(S3Response, inspect.isfunction)
            if name not in DISPATCH and not name.startswith("__")
        },
        "backend": property(lambda self: RecordingBackend()),
        "_authenticate_and_authorize_s3_action": lambda self, **kwargs: None,
    },
)


def moto_answers_with(route: operations.Route) -> str:
    """What moto's dispatch reaches for a request of ``route``'s shape ('' if it reaches nothing)."""
    probe = Probe.__new__(Probe)
    query = {k: [dict(route.values).get(k, "1")] for k in route.query}
    path = {"service": "/", "bucket": "/bucket", "key": "/bucket/key"}.get(route.target, route.target)
    url = f"http://localhost{path}?" + "&".join(f"{k}={v[0]}" for k, v in query.items())
    probe.data, probe.querystring, probe.bucket_name = {}, query, "bucket"
    probe.headers = {"Content-Length": "1", **{h: "x" for h in route.headers}}
    probe.body = b"" if "uploads" in query else b"<Status>Enabled</Status>"
    probe.path, probe.raw_path = url.removeprefix("http://localhost"), path
    probe.parse_bucket_name_from_url = lambda request, full_url: "" if route.target == "service" else path.split("/")[1]
    probe.parse_key_name = lambda: "key"
    request = mock.MagicMock(method=route.method, headers=probe.headers, url=url, full_path=probe.path)
    del request.args  # moto reads the URL, as for a request without Flask's parsed arguments
    dispatch = Probe._key_response if route.target == "key" else Probe._bucket_response
    try:
        with mock.patch("moto.s3.responses.xmltodict.parse", lambda *args, **kwargs: AnyXml()):
            dispatch.__wrapped__(probe, request, url) if hasattr(dispatch, "__wrapped__") else dispatch(
                probe, request, url
            )
    except Reached as reached:
        return str(reached)
    except Exception:
        return ""
    return ""


def served_by_moto() -> set[str]:
    served = set()
    for route in operations.routes():
        reached = moto_answers_with(route)
        if camelcase_to_underscores(route.operation) == reached or route.operation in MOTO_NAMES.get(reached, ()):
            served.add(route.operation)
    return served


def test_every_operation_moto_serves_is_classified_once() -> None:
    served = served_by_moto()
    assert {"PutObject", "GetObject", "SelectObjectContent", "CompleteMultipartUpload"} <= served and len(served) > 70
    tables = [
        set(operations.COMPUTED),
        set(operations.FAILS_AS_AWS),
        set(operations.BOOKKEEPING),
        set(operations.REFUSED),
    ]
    assert sum(map(len, tables)) == len(set().union(*tables)), "an operation in two classes"
    assert set().union(*tables) <= set(S3.operation_names)
    classified = set().union(*tables[:3])
    assert classified | (set(operations.REFUSED) & served) == served, (
        f"classify in scones.emulator.s3.operations: {sorted(served - set().union(*tables))}; "
        f"not served by moto: {sorted(classified - served)}"
    )
    # The walk tells served from not: these fell through to other operations in moto 5.2.5.
    assert not {"PutBucketMetricsConfiguration", "DeleteBucketAnalyticsConfiguration", "RenameObject"} & served


class Sent(Exception):
    pass


def _value(shape: Any, name: str, every: bool = False) -> Any:
    """A value botocore accepts for a required member (the request's shape is what matters);
    ``every``: with every optional member of the request filled in too."""
    kind = shape.type_name
    if kind == "structure":
        members = shape.required_members or ([next(iter(shape.members))] if shape.is_tagged_union else [])
        if every and not shape.is_tagged_union:
            members = list(shape.members)
        return {m: _value(shape.members[m], m, every) for m in members}
    if kind == "list":
        return [_value(shape.member, name, every)]
    if kind == "map":
        return {}
    if kind in ("integer", "long"):
        return 1
    if kind == "boolean":
        return False
    if kind == "timestamp":
        return datetime.datetime(2026, 1, 1)
    if kind == "blob":
        return b"x"
    if enum := getattr(shape, "enum", None):
        return "CRC32" if "CRC32" in enum else enum[0]  # (the CRT checksums need botocore[crt])
    known = {"Bucket": "bucket", "Key": "key", "CopySource": "bucket/other", "RenameSource": "bucket/other"}
    return known.get(name, "x" * max(1, shape.metadata.get("min", 1)))


@pytest.mark.parametrize("every", [False, True], ids=["required-members", "every-member"])
def test_botocore_requests_are_identified_as_the_operation_they_are(every: bool) -> None:
    """The wire shapes ``identify`` matches are the ones botocore sends (path-style, as the emulator's
    clients), with the required members only and with every optional header and query key too."""
    client = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="a",
        aws_secret_access_key="b",
        config=Config(s3={"addressing_style": "path"}, inject_host_prefix=False),
    )
    captured: dict[str, Any] = {}

    def capture(request: Any, **kwargs: Any) -> None:
        captured["request"] = request
        raise Sent

    client.meta.events.register("before-send.s3.*", capture)
    wrong = {}
    for op in S3.operation_names:
        model = S3.operation_model(op)
        params = _value(model.input_shape, "", every) if model.input_shape is not None else {}
        with pytest.raises(Sent):
            getattr(client, camelcase_to_underscores(op))(**params)
        request = captured["request"]
        url = urlparse(request.url)
        segments = [s for s in url.path.split("/") if s]
        target = (
            "service"
            if not segments
            else (
                f"/{segments[0]}"
                if f"/{segments[0]}" in operations.fixed_paths()
                else "bucket"
                if len(segments) == 1
                else "key"
            )
        )
        signed_for = request.headers["Authorization"].decode().split("Credential=")[1].split("/")[3]
        found = operations.identify(
            request.method,
            target,
            parse_qs(url.query, keep_blank_values=True),
            {h.lower() for h in request.headers},
            signed_for,
        )
        if op not in found:
            wrong[op] = found
    assert not wrong, wrong


# The refusing wrapper in moto's own server (Flask), in a thread of this process.


@pytest.fixture(scope="module")
def moto_server():
    """moto's server with the emulator's refusals in front of moto's S3 dispatch (for this module only)."""
    import urllib.request

    from moto.server import ThreadedMotoServer

    from scones.emulator.s3 import responses

    patch = mock.patch.multiple(
        S3Response,
        _bucket_response=responses._refusing(S3Response._bucket_response, "bucket"),
        _key_response=responses._refusing(S3Response._key_response, "key"),
    )
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    with patch:
        server.start()
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        urllib.request.urlopen(urllib.request.Request(f"{url}/refusals", method="PUT")).close()  # CreateBucket
        try:
            yield url
        finally:
            server.stop()


def _send(
    url: str, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> tuple[int, str]:
    import urllib.error
    import urllib.request

    auth = {
        "Authorization": "AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0"
    }
    request = urllib.request.Request(url + path, data=body or None, method=method, headers={**auth, **(headers or {})})
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_requests_that_are_no_operation_of_s3_are_refused_not_answered_as_list_buckets(moto_server) -> None:
    for method in ("PUT", "DELETE", "POST"):
        status, body = _send(moto_server, method, "/")
        assert (status, "<Code>NotImplemented</Code>") == (400, body[body.find("<Code>") : body.find("</Code>") + 7]), (
            body
        )
        assert f"{method} /: it is no operation of S3" in body and "ListAllMyBucketsResult" not in body
    assert _send(moto_server, "GET", "/")[0] == 200  # ListBuckets itself
    # What the model does not describe but S3 serves: a CORS preflight, a browser's form upload.
    assert (
        _send(moto_server, "OPTIONS", "/refusals/key", {"Origin": "http://x", "Access-Control-Request-Method": "GET"})[
            0
        ]
        != 400
    )
    form = (
        b'--b\r\nContent-Disposition: form-data; name="key"\r\n\r\nposted\r\n--b\r\nContent-Disposition: form-data; '
        b'name="file"; filename="f"\r\n\r\nbody\r\n--b--\r\n'
    )
    status, _ = _send(moto_server, "POST", "/refusals", {"Content-Type": "multipart/form-data; boundary=b"}, form)
    assert status in (200, 204) and _send(moto_server, "GET", "/refusals/posted") == (200, "body")


def test_the_refusal_names_the_operation_from_flasks_query_args(moto_server) -> None:
    # The query as Flask parses it: a key with no value, and one whose value names the operation.
    status, body = _send(moto_server, "PUT", "/refusals?metrics&id=m")
    assert status == 400 and "s3:PutBucketMetricsConfiguration" in body
    status, body = _send(moto_server, "GET", "/refusals?list-type=2")
    assert status == 200 and "<ListBucketResult" in body  # ListObjectsV2, served
    status, body = _send(moto_server, "PUT", "/refusals/key?renameObject", {"x-amz-rename-source": "refusals/other"})
    assert status == 400 and "s3:RenameObject" in body
    status, body = _send(moto_server, "PUT", "/refusals?replication", body=b"<ReplicationConfiguration/>")
    assert status == 400 and "s3:PutBucketReplication" in body and "not replicated" in body


def test_a_fixed_path_is_its_operation_not_a_bucket(moto_server) -> None:
    status, body = _send(
        moto_server, "POST", "/WriteGetObjectResponse", {"x-amz-request-route": "r", "x-amz-request-token": "t"}, b"x"
    )
    assert status == 400 and "s3:WriteGetObjectResponse" in body


def test_a_directory_buckets_request_is_refused_naming_what_it_is(moto_server) -> None:
    express = {
        "Authorization": "AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/s3express/aws4_request, "
        "SignedHeaders=host, Signature=0"
    }
    status, body = _send(moto_server, "GET", "/", express)
    assert status == 400 and "s3:ListDirectoryBuckets on directory buckets" in body
    status, body = _send(moto_server, "PUT", "/", express)  # no operation at all: named by its method and path
    assert status == 400 and "does not implement PUT / on directory buckets" in body


def test_a_sample_of_refused_operations_is_answered_with_a_refusal_naming_each(moto_server) -> None:
    """Every operation neither computed nor bookkeeping gets S3's 400 NotImplemented naming it, with its reason."""
    shapes = {  # one wire shape per kind of refusal: not served by moto, and each of REFUSED's reasons
        "DeleteBucketAnalyticsConfiguration": ("DELETE", "/refusals?analytics&id=a", b""),
        "GetObjectRetention": ("GET", "/refusals/key?retention", b""),
        "SelectObjectContent": ("POST", "/refusals/key?select&select-type=2", b"<x/>"),
        "PutBucketInventoryConfiguration": ("PUT", "/refusals?inventory&id=i", b"<x/>"),
    }
    for op, (method, path, body) in shapes.items():
        assert operations.refusal((op,)) is not None, op
        status, answer = _send(moto_server, method, path, body=body)
        assert status == 400 and "<Code>NotImplemented</Code>" in answer and f"s3:{op}" in answer, (op, answer)
        reason = operations.REFUSED.get(op, operations.NOT_SERVED)
        assert reason.split("(")[0].strip() in answer.replace("&quot;", '"'), (op, answer)


# Against the emulator process.

BUCKET = "scones-emulator-s3-operations"


@pytest.fixture(scope="module")
def s3(emulator):
    client = emulator.session().client("s3", config=Config(retries={"max_attempts": 1}))
    try:
        client.create_bucket(Bucket=BUCKET)
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass
    return client


def refused(exc: pytest.ExceptionInfo[ClientError], operation: str) -> bool:
    error = exc.value.response["Error"]
    return (exc.value.response["ResponseMetadata"]["HTTPStatusCode"], error["Code"]) == (400, "NotImplemented") and (
        f"s3:{operation}" in error["Message"]
    )


def test_an_operation_moto_would_answer_as_another_is_refused_and_changes_nothing(s3) -> None:
    bucket = f"scones-refused-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as exc:  # moto deleted the bucket
        s3.delete_bucket_analytics_configuration(Bucket=bucket, Id="any")
    assert refused(exc, "DeleteBucketAnalyticsConfiguration"), exc.value.response
    s3.head_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="kept", Body=b"the data")
    with pytest.raises(ClientError) as exc:  # moto overwrote the object with the request's body
        s3.rename_object(Bucket=bucket, Key="kept", RenameSource=f"{bucket}/elsewhere")
    assert refused(exc, "RenameObject")
    with pytest.raises(ClientError) as exc:  # moto returned the object as the retention
        s3.get_object_retention(Bucket=bucket, Key="kept")
    assert refused(exc, "GetObjectRetention")
    assert s3.get_object(Bucket=bucket, Key="kept")["Body"].read() == b"the data"
    with pytest.raises(ClientError) as exc:
        s3.list_directory_buckets()
    assert refused(exc, "ListDirectoryBuckets")


def test_configurations_whose_output_never_comes_are_refused(s3) -> None:
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_replication(
            Bucket=BUCKET,
            ReplicationConfiguration={
                "Role": "arn:aws:iam::123456789012:role/replication",
                "Rules": [
                    {
                        "Status": "Enabled",
                        "Priority": 1,
                        "Filter": {},
                        "DeleteMarkerReplication": {"Status": "Disabled"},
                        "Destination": {"Bucket": "arn:aws:s3:::elsewhere"},
                    }
                ],
            },
        )
    assert refused(exc, "PutBucketReplication") and "replicated" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_inventory_configuration(
            Bucket=BUCKET,
            Id="daily",
            InventoryConfiguration={
                "Id": "daily",
                "IsEnabled": True,
                "IncludedObjectVersions": "Current",
                "Schedule": {"Frequency": "Daily"},
                "Destination": {"S3BucketDestination": {"Bucket": "arn:aws:s3:::elsewhere", "Format": "CSV"}},
            },
        )
    assert refused(exc, "PutBucketInventoryConfiguration")
    assert s3.list_bucket_inventory_configurations(Bucket=BUCKET).get("InventoryConfigurationList", []) == []


def test_select_object_content_is_refused_rather_than_answered_wrongly(s3) -> None:
    s3.put_object(Bucket=BUCKET, Key="labels.csv", Body=b"name,label\nbike,bicycle\nbus,bus\nvan,pickup_truck\n")
    with pytest.raises(ClientError) as exc:  # moto answered 4 (the header counted), or crashed on FROM S3Object
        s3.select_object_content(
            Bucket=BUCKET,
            Key="labels.csv",
            ExpressionType="SQL",
            Expression="SELECT COUNT(*) FROM S3Object",
            InputSerialization={"CSV": {"FileHeaderInfo": "USE"}},
            OutputSerialization={"CSV": {}},
        )
    assert refused(exc, "SelectObjectContent") and "GetObject" in exc.value.response["Error"]["Message"]


def test_restore_object_makes_an_archived_object_readable(s3) -> None:
    s3.put_object(Bucket=BUCKET, Key="archived", Body=b"cold", StorageClass="GLACIER")
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=BUCKET, Key="archived")
    assert exc.value.response["Error"]["Code"] == "InvalidObjectState"
    s3.restore_object(Bucket=BUCKET, Key="archived", RestoreRequest={"Days": 1})
    assert s3.get_object(Bucket=BUCKET, Key="archived")["Body"].read() == b"cold"


def test_bucket_notifications_are_delivered_to_sqs(s3, emulator) -> None:
    sqs = emulator.session().client("sqs")
    bucket = f"scones-notify-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    queue = sqs.create_queue(QueueName=bucket)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    s3.put_object(Bucket=bucket, Key="images/new.png", Body=b"png")
    bodies = [
        json.loads(m["Body"])
        for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=2).get("Messages", [])
    ]
    # The configuration's s3:TestEvent first, then the object's event; keys URL-encoded, as S3 sends them.
    assert bodies[0]["Event"] == "s3:TestEvent"
    keys = [unquote_plus(r["s3"]["object"]["key"]) for body in bodies for r in body.get("Records", [])]
    assert keys == ["images/new.png"], bodies


def test_bucket_notifications_run_the_lambda_function(s3, emulator) -> None:
    """moto's delivery calls LambdaFunction.invoke: the emulator runs the handler, asynchronously as S3 does."""
    import time

    from tests.emulator_lambda.functions import deploy

    session = emulator.session()
    bucket = f"scones-notify-fn-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    name = deploy(
        session,
        f"""
        import boto3
        from urllib.parse import unquote_plus
        def handler(event, context):
            for record in event["Records"]:
                key = unquote_plus(record["s3"]["object"]["key"])
                boto3.client("s3").put_object(Bucket="{bucket}", Key="seen/" + key, Body=b"by the function")
        """,
    )
    arn = session.client("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "LambdaFunctionArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}},
                }
            ]
        },
    )
    s3.put_object(Bucket=bucket, Key="in/a.png", Body=b"png")
    deadline = time.monotonic() + 60
    while s3.list_objects_v2(Bucket=bucket, Prefix="seen/")["KeyCount"] == 0:
        assert time.monotonic() < deadline, "the function never ran for the new object"
        time.sleep(0.3)
    assert s3.get_object(Bucket=bucket, Key="seen/in/a.png")["Body"].read() == b"by the function"
    session.client("lambda").delete_function(FunctionName=name)


def test_object_lambda_and_batch_jobs_are_refused_with_a_4xx(emulator) -> None:
    session = emulator.session()
    # The host prefix ({RequestRoute}.127.0.0.1) would not resolve: sent to the emulator itself.
    s3 = session.client("s3", config=Config(inject_host_prefix=False, retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as exc:
        s3.write_get_object_response(RequestRoute="route", RequestToken="token", Body=b"x")
    assert refused(exc, "WriteGetObjectResponse")
    control = session.client("s3control", config=Config(retries={"max_attempts": 1}))
    # s3control's endpoint is <account>.<endpoint>: sent to the emulator itself, as a client of
    # a resolvable endpoint would reach it.
    control.meta.events.register(
        "before-send.s3-control.CreateJob",
        lambda request, **_: setattr(request, "url", request.url.replace("://123456789012.", "://")),
    )
    with pytest.raises(ClientError) as exc:
        control.create_job(
            AccountId="123456789012",
            Operation={"S3PutObjectTagging": {}},
            Report={"Enabled": False},
            ClientRequestToken="t",
            Priority=1,
            RoleArn="arn:aws:iam::123456789012:role/batch",
            Manifest={
                "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
                "Location": {"ObjectArn": "arn:aws:s3:::b/manifest.csv", "ETag": "e"},
            },
        )
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert exc.value.response["Error"]["Code"] == "UnsupportedOperation"  # in XML, which the SDK reads
    assert "/v20180820/jobs" in exc.value.response["Error"]["Message"]
