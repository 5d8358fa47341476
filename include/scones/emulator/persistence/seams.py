"""Every moto 5.2.5 internal the persistence relies on, checked before it loads or hooks anything.

- ``BackendDict._instances`` (the backends in use) and ``AccountSpecificBackend`` as a dict of
  region -> backend: what is pickled, and where it is put back.
- ``moto.s3.models.tempfile.SpooledTemporaryFile`` (FakeKey's body buffer, ``_value_buffer``)
  and ``FakeKey.lock``: swapped for a file in the state folder.
- ``_VersionedKeyStore.setlist`` / ``__setitem__`` / ``pop`` / ``getlist``: every change of a key.
- ``FakeBucket.keys`` / ``.multiparts``, ``FakeMultipart.parts`` and ``S3Backend.buckets``; ``S3Response.key_response`` /
  ``bucket_response`` (``request, full_url, headers``) and ``_get_querystring``.
- ``FakeMultipart.set_part(part_id, value)`` / ``.partlist``, ``S3Backend.abort_multipart_upload(bucket_name,
  multipart_id)`` and ``complete_multipart_upload(bucket_name, multipart_id, body)``: part files removed.
- ``DomainDispatcherApplication.get_application`` and ``__call__(environ, start_response)``.
- The recovery's: SageMaker's ``training_jobs`` / ``transform_jobs`` /
  ``hyper_parameter_tuning_jobs`` / ``endpoints``; the Step Functions interpreter's
  ``state_machines[*].executions`` with ``exec_status``, ``error``, ``cause``, ``stop_date``.
"""

from __future__ import annotations

import tempfile

from scones.emulator._seams import SeamCheck


def check_seams() -> None:
    import moto.s3.models
    from moto.core.base_backend import AccountSpecificBackend, BackendDict
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from moto.s3.models import FakeBucket, FakeKey, FakeMultipart, S3Backend
    from moto.s3.responses import S3Response
    from moto.s3.utils import _VersionedKeyStore
    from moto.sagemaker.models import SageMakerModelBackend
    from moto.stepfunctions.parser.backend.execution import Execution

    check = SeamCheck("persistence")
    check.attributes(BackendDict, "_instances")
    check.expect(issubclass(AccountSpecificBackend, dict), "AccountSpecificBackend is no longer a dict")
    check.expect(
        getattr(moto.s3.models, "tempfile", None) is tempfile,
        "moto.s3.models no longer uses tempfile.SpooledTemporaryFile for bodies",
    )
    key = FakeKey("probe", b"x", account_id="123456789012", region_name="us-east-1")
    check.expect(hasattr(key, "_value_buffer") and hasattr(key, "lock"), "FakeKey._value_buffer / FakeKey.lock moved")
    key.dispose()
    check.attributes(_VersionedKeyStore, "setlist", "__setitem__", "pop", "getlist")
    check.signature(_VersionedKeyStore, "setlist", ("key", "list_"))
    bucket = FakeBucket("probe-bucket", account_id="123456789012", region_name="us-east-1")
    check.expect(
        isinstance(getattr(bucket, "keys", None), _VersionedKeyStore),
        "FakeBucket.keys is no longer a _VersionedKeyStore",
    )
    check.expect(isinstance(getattr(bucket, "multiparts", None), dict), "FakeBucket.multiparts moved")
    check.expect(
        "parts" in FakeMultipart("probe", {}, account_id="123456789012", region_name="us-east-1").__dict__,
        "FakeMultipart.parts moved",
    )
    check.expect("buckets" in S3Backend("us-east-1", "123456789012").__dict__, "S3Backend.buckets moved")
    check.signature(FakeMultipart, "set_part", ("part_id", "value"))
    check.expect("partlist" in FakeMultipart.__init__.__code__.co_names, "FakeMultipart.partlist moved")
    check.signature(S3Backend, "abort_multipart_upload", ("bucket_name", "multipart_id"))
    check.signature(S3Backend, "complete_multipart_upload", ("bucket_name", "multipart_id", "body"))
    check.signature(S3Response, "key_response", ("request", "full_url", "headers"))
    check.signature(S3Response, "bucket_response", ("request", "full_url", "headers"))
    check.attributes(S3Response, "_get_querystring", "parse_key_name", "parse_bucket_name_from_url")
    check.signature(DomainDispatcherApplication, "__call__", ("environ", "start_response"))
    check.attributes(DomainDispatcherApplication, "get_application")
    backend = SageMakerModelBackend("us-east-1", "123456789012")
    check.expect(
        all(
            hasattr(backend, n) for n in ("training_jobs", "transform_jobs", "hyper_parameter_tuning_jobs", "endpoints")
        ),
        "SageMakerModelBackend's job and endpoint dicts moved",
    )
    check.attributes(Execution, "stop")
    check.raise_if_moved("include/scones/emulator/persistence/ against moto/s3/, moto/core/ and moto/moto_server/")
