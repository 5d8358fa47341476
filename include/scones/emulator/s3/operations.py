"""What the emulator does for each S3 operation moto 5.2.5 serves: the emulator's rule, as a table.

Every operation of S3's API is in exactly one class:

- ``COMPUTED``: does the work (stores and returns the bytes, restores, delivers the event);
- ``FAILS_AS_AWS``: none: S3 has no job that could end Failed (s3control's batch jobs are not
  served at all, see below);
- ``BOOKKEEPING``: a configuration recorded and returned, which needs no compute;
- ``REFUSED``: answered at once with HTTP 400, S3's XML error ``NotImplemented`` naming the
  operation and what the emulator supports: either moto would record a configuration whose
  output (replicas, inventory reports) never comes, or answer wrongly (S3 Select), or moto
  does not serve the operation and
  would answer it as another one. That last case is not hypothetical: moto routes S3 by the
  query string and falls back to the plain operation, so in 5.2.5 ``DELETE /bucket?analytics``
  deleted the bucket, ``PUT /bucket/key?renameObject`` overwrote the object with the request's
  body, ``GET /bucket/key?retention`` returned the object, and ``PUT /bucket?metrics`` answered
  200 as a CreateBucket.

S3 operations are told apart by their HTTP method, whether they name a bucket or an object,
and the query keys and headers that botocore's model gives them (:func:`identify`);
:mod:`scones.emulator.s3.responses` refuses a request before moto sees it when the operation
it is, is not classified COMPUTED or BOOKKEEPING. s3control (batch operations' CreateJob...)
is another service: the operations moto has no route for are refused by
``scones.emulator.unsupported`` (a 400 naming the path, in s3control's XML error format).
A request that is no operation of the model at all (``PUT /``, which moto answered as
ListBuckets) is refused too, except CORS preflights and browser form uploads.

``tests/emulator_s3/test_operations.py`` walks every S3 operation against moto's dispatch and
fails on one moto serves that is not classified here, so a moto upgrade is reviewed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

#: The operations with real work behind them, and what it is.
COMPUTED: dict[str, str] = {
    "PutObject": "stores the object (writes to one key are atomic: scones.emulator.s3.responses)",
    "GetObject": "returns the object (ranges, versions, conditions)",
    "HeadObject": "the object's metadata",
    "CopyObject": "copies the bytes",
    "DeleteObject": "deletes the object (or adds a delete marker)",
    "DeleteObjects": "deletes the objects",
    "GetObjectAttributes": "the object's attributes (ETag, size, parts)",
    "CreateMultipartUpload": "starts an upload",
    "UploadPart": "stores the part",
    "UploadPartCopy": "copies the part's bytes",
    "CompleteMultipartUpload": "assembles the object from its parts",
    "AbortMultipartUpload": "drops the upload and its parts",
    "ListParts": "the upload's parts",
    "ListMultipartUploads": "the bucket's uploads",
    "ListObjects": "lists the keys",
    "ListObjectsV2": "lists the keys",
    "ListObjectVersions": "lists the versions",
    "CreateBucket": "creates the bucket",
    "DeleteBucket": "deletes the (empty) bucket",
    "HeadBucket": "whether the bucket exists",
    "ListBuckets": "lists the buckets",
    "RestoreObject": "an archived (GLACIER, DEEP_ARCHIVE) object becomes readable at once (AWS: minutes to hours)",
    "PutBucketVersioning": "objects keep their versions from then on",
    "PutBucketNotification": "object events are delivered to the configured SQS queues, SNS topics, Lambda "
    "functions (an asynchronous invocation on the emulator's workers, as S3's) and EventBridge",
    "PutBucketNotificationConfiguration": "as PutBucketNotification",
    "PutBucketLogging": "each request to the bucket writes an access log object under the target bucket and prefix",
}

#: Accepted, then Failed with a reason: nothing in S3 (it has no jobs to fail).
FAILS_AS_AWS: dict[str, str] = {}

#: Configurations recorded and returned; nothing runs on them (each note says what does not).
BOOKKEEPING: frozenset[str] = frozenset(
    {
        "GetBucketLocation",
        "GetBucketVersioning",
        "GetBucketNotification",
        "GetBucketNotificationConfiguration",
        "GetBucketLogging",
        "GetBucketAcl",
        "PutBucketAcl",
        "GetObjectAcl",
        "PutObjectAcl",
        "GetBucketPolicy",
        "PutBucketPolicy",
        "DeleteBucketPolicy",
        "GetBucketPolicyStatus",
        "GetBucketTagging",
        "PutBucketTagging",
        "DeleteBucketTagging",
        "GetObjectTagging",
        "PutObjectTagging",
        "DeleteObjectTagging",
        "GetBucketCors",
        "PutBucketCors",
        "DeleteBucketCors",
        "GetBucketEncryption",
        "PutBucketEncryption",
        "DeleteBucketEncryption",
        "GetPublicAccessBlock",
        "PutPublicAccessBlock",
        "DeletePublicAccessBlock",
        "GetBucketOwnershipControls",
        "PutBucketOwnershipControls",
        "DeleteBucketOwnershipControls",
        "GetBucketAccelerateConfiguration",
        "PutBucketAccelerateConfiguration",
        # Object lock: recorded (moto refuses to delete a version under retention or legal hold).
        "GetObjectLockConfiguration",
        "PutObjectLockConfiguration",
        "GetObjectLegalHold",
        "PutObjectLegalHold",
        "PutObjectRetention",
        # Recorded: no website endpoint is served (a request to one does not resolve).
        "GetBucketWebsite",
        "PutBucketWebsite",
        "DeleteBucketWebsite",
        # Rules recorded, never applied: objects are not expired or transitioned (AWS applies them
        # asynchronously, within days; nothing here waits that long).
        "GetBucketLifecycle",
        "GetBucketLifecycleConfiguration",
        "PutBucketLifecycle",
        "PutBucketLifecycleConfiguration",
        "DeleteBucketLifecycle",
        # What PutBucketReplication and PutBucketInventoryConfiguration (refused) would have recorded: nothing.
        "GetBucketReplication",
        "DeleteBucketReplication",
        "GetBucketInventoryConfiguration",
        "ListBucketInventoryConfigurations",
    }
)

#: Operations moto serves whose answer would claim output nobody produces.
REFUSED: dict[str, str] = {
    # moto 5.2.5 evaluates it with py-partiql-parser, which crashed on AWS's own examples
    # (FROM S3Object ... WHERE) and counted a CSV's header line as a record (COUNT(*) 4 for 3 rows).
    "SelectObjectContent": "its SQL evaluation here gives wrong answers (a CSV header counted as a record) or "
    "fails on AWS's examples; read the object with GetObject and filter it in the client (AWS itself closed "
    "S3 Select to new customers in 2024)",
    "PutBucketReplication": "objects are not replicated (moto records the rules and copies nothing)",
    "PutBucketInventoryConfiguration": "no inventory report is ever written (moto records the configuration only)",
    "ListDirectoryBuckets": "directory buckets (S3 Express One Zone) are not emulated (moto would list the "
    "general purpose buckets as directory buckets)",
}

#: Why an operation moto does not serve is refused (moto would answer it as another operation).
NOT_SERVED = "moto does not serve it (it would answer another operation in its place)"

SUPPORTED = (
    "the emulator's S3 stores and returns objects (multipart, versions, conditional writes), runs "
    "RestoreObject, delivers bucket notifications and access logs, and records "
    "bucket and object configuration; see the README's emulator table"
)


def refusal(operations: tuple[str, ...]) -> str | None:
    """Why a request that is one of ``operations`` (ties share a wire shape) is refused; None: served."""
    if any(op in COMPUTED or op in BOOKKEEPING or op in FAILS_AS_AWS for op in operations):
        return None
    name = " / ".join(f"s3:{op}" for op in operations)
    reason = REFUSED.get(operations[0], NOT_SERVED)
    return f"The local AWS emulator does not implement {name}: {reason}. {SUPPORTED[0].upper()}{SUPPORTED[1:]}."


@dataclass(frozen=True)
class Route:
    """How an S3 operation looks on the wire, from botocore's model."""

    operation: str
    method: str
    target: str  # "service" (GET /), "bucket", "key", or a fixed path such as "/WriteGetObjectResponse"
    query: frozenset[str]  # query keys that name it (in the request URI, or required query parameters)
    values: tuple[tuple[str, str], ...]  # query keys whose value names it (list-type=2)
    headers: frozenset[str]  # required headers, lower case
    express: bool  # GET / signed for s3express (ListDirectoryBuckets), not s3 (ListBuckets)


@functools.cache
def routes() -> tuple[Route, ...]:
    import botocore.session

    model = botocore.session.get_session().get_service_model("s3")
    found = []
    for name in model.operation_names:
        op = model.operation_model(name)
        path, _, query = op.http["requestUri"].partition("?")
        target = {"/": "service", "/{Bucket}": "bucket", "/{Bucket}/{Key+}": "key"}.get(path, path)
        pairs = [part.partition("=") for part in query.split("&") if part and not part.startswith("x-id")]
        keys, headers = {k for k, _, _ in pairs}, set()
        shape = op.input_shape
        for member in shape.required_members if shape is not None else ():
            where = shape.members[member].serialization
            if where.get("location") == "querystring":
                keys.add(where["name"])
            elif where.get("location") == "header":
                headers.add(where["name"].lower())
        # ListDirectoryBuckets is ListBuckets' wire shape, signed for s3express instead of s3.
        express = target == "service" and any(
            p.name == "UseS3ExpressControlEndpoint" and p.value for p in op.static_context_parameters
        )
        found.append(
            Route(
                name,
                op.http["method"],
                target,
                frozenset(keys),
                tuple((k, v) for k, _, v in pairs if v),
                frozenset(headers),
                express,
            )
        )
    return tuple(found)


@functools.cache
def fixed_paths() -> frozenset[str]:
    """Paths of operations that name no bucket (``POST /WriteGetObjectResponse``)."""
    return frozenset(r.target for r in routes() if r.target.startswith("/"))


def identify(
    method: str, target: str, query: set[str] | dict[str, object], headers: set[str], signed_for: str = "s3"
) -> tuple[str, ...]:
    """The operation(s) a request is, by the most specific route it matches; () if none.

    ``target``: "service", "bucket" or "key", or the path when the bucket segment is a fixed
    path of the API (``/WriteGetObjectResponse``). ``query``: its query keys (a dict: with
    their values); ``headers``: its header names, lower case.
    """
    values = query if isinstance(query, dict) else {}
    express = signed_for == "s3express"
    matches = [
        r
        for r in routes()
        if r.method == method
        and r.target == target
        and r.query <= set(query)
        and r.headers <= headers
        and (r.target != "service" or r.express == express)
        and all(str(_first(values.get(k, v))) == v for k, v in r.values)
    ]
    if not matches:
        return ()
    best = max(len(r.query) + len(r.headers) for r in matches)
    return tuple(sorted(r.operation for r in matches if len(r.query) + len(r.headers) == best))


def _first(value: object) -> object:
    return value[0] if isinstance(value, list) and value else value
