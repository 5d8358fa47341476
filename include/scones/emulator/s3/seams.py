"""Every point where the S3 plug-in touches moto 5.2.5, checked before it is installed.

- ``S3Response.put_object`` / ``copy_object`` / ``delete_object`` (no arguments: they read
  ``self.bucket_name`` and ``self.parse_key_name()``) and ``S3Response._key_response_post``
  (``request, body, bucket_name, query, key_name``): wrapped to run under the key's lock.
- ``S3Response._bucket_response`` / ``_key_response`` (``request, full_url``), with
  ``_get_querystring(request, full_url)`` and ``parse_bucket_name_from_url(request, url)``:
  wrapped to refuse the operations ``operations.py`` does not classify as served.
- ``S3Response.abort_multipart_upload`` (no arguments, reads ``uploadId``) and
  ``Bucket.multiparts``: an upload's baseline is dropped when it is aborted or gone.
- ``put_object`` reading ``If-Match`` / ``If-None-Match`` itself: we rely on its 412s and add
  only atomicity; if moto stops checking them, conditional writes would silently succeed.
- ``_VersionedKeyStore.setlist`` and ``.pop`` (moto/s3/utils.py), which ``dispose()`` the
  objects they drop: replaced by versions that leave closing to ``FakeKey.__del__``.
- ``FakeKey.dispose(garbage)`` and its ``disposed`` flag, which silences ``__del__``'s warning.
- ``BaseModel.__new__`` appending each FakeKey / FakeMultipart to ``cls.instances_tracked``,
  which moto only iterates (``S3Backend.reset``, the dashboard): replaced by a weak list.
- Streaming (streaming.py): ``S3Response.key_response(request, full_url, headers)``,
  ``setup_class(request, full_url, headers)`` reading the body as werkzeug's ``request.data``
  (whose cache, ``_cached_data``, is set empty for a received body), ``_get_checksum(response_headers)``,
  ``put_object`` / ``upload_part`` / ``get_object`` (no arguments), ``get_object`` answering
  ``key.value``; ``FakeKey.value`` a property with a setter; ``S3Backend.copy_object`` and
  ``upload_part_copy`` reading the source's ``value``; ``FakeMultipart.complete(body)`` joining
  ``part.value`` with ``MultipartChecksumBuilder`` (its checks are repeated for large objects).
"""

from __future__ import annotations

import inspect

#: The moto version these seams were read from (pinned exactly in pyproject.toml).
MOTO_VERSION = "5.2.5"


class SeamMoved(RuntimeError):
    """moto's S3 no longer has the attribute or signature this plug-in patches."""


def _parameters(func: object) -> list[str]:
    return [p for p in inspect.signature(func).parameters if p != "self"]  # type: ignore[arg-type]


def check_seams() -> None:
    """Raise :class:`SeamMoved` naming every seam that is not where this plug-in expects it."""
    import moto
    from moto.s3.models import FakeKey
    from moto.s3.responses import S3Response
    from moto.s3.utils import _VersionedKeyStore

    problems: list[str] = []
    if moto.__version__ != MOTO_VERSION:
        problems.append(f"moto is {moto.__version__}; these seams were read from {MOTO_VERSION}")
    for name, params in (
        ("put_object", []),
        ("copy_object", []),
        ("delete_object", []),
        ("abort_multipart_upload", []),
        ("_key_response_post", ["request", "body", "bucket_name", "query", "key_name"]),
        ("_bucket_response", ["request", "full_url"]),
        ("_key_response", ["request", "full_url"]),
        ("_get_querystring", ["request", "full_url"]),
        ("parse_bucket_name_from_url", ["request", "url"]),
        ("key_response", ["request", "full_url", "headers"]),
        ("setup_class", ["request", "full_url", "headers"]),
        ("_get_checksum", ["response_headers"]),
        ("upload_part", []),
        ("get_object", []),
    ):
        func = getattr(S3Response, name, None)
        if func is None:
            problems.append(f"S3Response.{name} is gone")
        elif _parameters(func) != params:
            problems.append(f"S3Response.{name}{inspect.signature(func)} changed; expected {params}")
    put_source = inspect.getsource(S3Response.put_object) if hasattr(S3Response, "put_object") else ""
    if (
        'raise PreconditionFailed("If-Match")' not in put_source
        or 'raise PreconditionFailed("If-None-Match")' not in put_source
    ):
        problems.append("S3Response.put_object no longer checks If-Match / If-None-Match itself")
    for name in ("setlist", "pop", "getlist"):
        if name not in vars(_VersionedKeyStore):
            problems.append(f"_VersionedKeyStore.{name} is gone")
    if "dispose()" not in inspect.getsource(_VersionedKeyStore.setlist):
        problems.append("_VersionedKeyStore.setlist no longer disposes replaced keys: review models.py")
    if _parameters(FakeKey.dispose) != ["garbage"] or "self.disposed" not in inspect.getsource(FakeKey.dispose):
        problems.append("FakeKey.dispose(garbage) / FakeKey.disposed changed")
    problems.extend(_tracking_seams())
    problems.extend(_streaming_seams())
    if problems:
        raise SeamMoved(
            "the S3 plug-in no longer fits moto; review include/scones/emulator/s3/ against moto/s3/:\n  - "
            + "\n  - ".join(problems)
        )


def _tracking_seams() -> list[str]:
    from moto.core.common_models import BaseModel
    from moto.s3.models import FakeKey, FakeMultipart, S3Backend

    problems = []
    if "cls.instances_tracked.append(instance)" not in inspect.getsource(BaseModel.__new__):
        problems.append("BaseModel.__new__ no longer appends to cls.instances_tracked: review models.py")
    for model in (FakeKey, FakeMultipart):
        if "__new__" in vars(model) and model.__new__ is not BaseModel.__new__ and not _ours(model.__new__):
            problems.append(f"{model.__name__} has a __new__ of its own: review models.py")
    reset = inspect.getsource(S3Backend.reset)
    if "for key in FakeKey.instances_tracked:" not in reset or "FakeKey.instances_tracked[" in reset:
        problems.append("S3Backend.reset no longer only iterates FakeKey.instances_tracked: review models.py")
    return problems


def _ours(func: object) -> bool:
    return getattr(func, "__module__", "").startswith("scones.")


def _streaming_seams() -> list[str]:
    from moto.core.responses import BaseResponse
    from moto.s3.models import FakeKey, FakeMultipart, S3Backend
    from moto.s3.responses import S3Response

    problems = []
    value = inspect.getattr_static(FakeKey, "value", None)
    if not isinstance(value, property) or value.fset is None:
        problems.append("FakeKey.value is no longer a property with a setter")
    for owner, name, text in (
        (BaseResponse, "setup_class", "self.body: Any = request.data"),
        (S3Response, "get_object", "return 200, response_headers, key.value"),
        (S3Backend, "copy_object", "value=src_key.value"),
        (S3Backend, "upload_part_copy", ").value"),
        (FakeMultipart, "complete", "total.extend(part.value)"),
        (FakeMultipart, "complete", "MultipartChecksumBuilder(checksum_algo, checksum_type)"),
    ):
        if text not in inspect.getsource(getattr(owner, name)):
            problems.append(f"{owner.__name__}.{name} no longer has `{text}`: review streaming.py")
    return problems
