"""Large S3 bodies streamed between the socket and a file, never held whole in memory.

moto reads a request's whole body (werkzeug's ``request.data``) and answers GetObject with
``key.value``, the whole body as one ``bytes``; CompleteMultipartUpload joins every part in a
``bytearray`` (and once more for its checksum). A 1 GB object cost the emulator 2-3 GB while it
was put or read, though what is stored is a file. Above :data:`STREAM_THRESHOLD` bytes:

- **PutObject / UploadPart**: the body goes from ``wsgi.input`` to a file in 1 MiB chunks, its
  MD5 and checksum computed on the way; moto then runs the request as it does for any other,
  with a :class:`ReceivedBody` standing in for the bytes, and the FakeKey it makes *adopts*
  that file as its body (renamed into ``s3/blobs/`` with a state folder: the key's record
  and the group commit then happen exactly as for a small object, before S3 answers; without
  one, an anonymous temporary file, which is what moto itself keeps a body over 16 MB in).
- **CompleteMultipartUpload**: the parts are copied into one file in chunks (moto's own
  checks: InvalidPart, EntityTooSmall, MalformedXML; its ETag and checksum rules).
- **GetObject**: moto answers the request itself (status, every header, versionId, the
  conditions' 304/412, Range with its 206/416) with a :class:`KeyBody` as ``key.value``: a
  lazy view of the body that ``Range`` slices as it would slice bytes, and that the server
  iterates in chunks. moto computing the answer and only the bytes being ours is what keeps
  the headers identical to moto's for the same request; rebuilding them (or asking moto for
  a HEAD and patching it) would be a second implementation of S3's rules to keep in step.

Content-MD5 and an ``x-amz-checksum-<algorithm>`` header are checked against the body, large
or small (moto checks neither): a mismatch is 400 BadDigest and nothing is stored, as on
S3. A checksum value that is not base64 of the algorithm's length is 400 InvalidRequest.
CRC32C and CRC64NVME without their libraries (crc32c, awscrt; not installed here): moto would
compute CRC32 in their place and store any value given, so a request naming them is refused
at once (400 NotImplemented, naming the algorithms the emulator computes).

A streamed body shorter than its Content-Length is 400 IncompleteBody; one that stalls for
:data:`BODY_IDLE_TIMEOUT` seconds (``SCONES_S3_BODY_IDLE_TIMEOUT``, default 20, as S3) is 400
RequestTimeout; either way the partial file goes and the connection is closed. A presigned
PUT (its signature in the query string) streams as a signed one does.

Not streamed (moto's whole-body path, as before): aws-chunked bodies (SigV4 streaming; boto3
over http sends plain bodies), form uploads (presigned POST), CopyObject / UploadPartCopy.
``STREAM_THRESHOLD`` comes from ``SCONES_S3_STREAM_THRESHOLD`` (bytes) in the emulator's
environment, default 8 MiB. ``GET /moto-api/scones/s3-streaming`` answers what went which
way (bodies streamed in and out, the largest body moto read itself).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import tempfile
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator
from typing import IO, Any

from scones.emulator.s3.exceptions import error_response, not_implemented

#: Bodies larger than this (bytes) are streamed; smaller ones go through moto as they are.
STREAM_THRESHOLD = int(os.environ.get("SCONES_S3_STREAM_THRESHOLD", str(8 * 1024 * 1024)))
CHUNK = 1024 * 1024
#: Seconds a streamed body may go without a byte before S3's 400 RequestTimeout (S3: about 20)
BODY_IDLE_TIMEOUT = float(os.environ.get("SCONES_S3_BODY_IDLE_TIMEOUT", "20"))
STATS_PATH = "scones/s3-streaming"

_EXACT_ALGORITHMS = {"CRC32", "SHA1", "SHA256"}  # computed as named whatever is installed
#: ``x-amz-checksum-*`` request headers that are no checksum value
_NOT_VALUES = ("x-amz-checksum-mode", "x-amz-checksum-type", "x-amz-checksum-algorithm")
#: A PutObject / UploadPart's query parameters, a presigned URL's signature (SigV4 and SigV2) included
_STREAMABLE_QUERY = {
    "uploadId",
    "partNumber",
    "x-id",
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
    "AWSAccessKeyId",
    "Signature",
    "Expires",
}
#: Bytes of each checksum's value (base64-decoded)
_DIGEST_SIZES = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}
_reading = threading.local()  # set while moto's get_object runs: key.value is a KeyBody


class Stats:
    """What went which way, for tests and benchmarks (``GET /moto-api/scones/s3-streaming``)."""

    def __init__(self) -> None:
        self.streamed_in = 0
        self.streamed_out = 0
        self.largest_body_read_by_moto = 0

    def answer(self, request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
        body = {**vars(self), "threshold": STREAM_THRESHOLD}
        return 200, {"Content-Type": "application/json"}, json.dumps(body)


STATS = Stats()


class Checksum:
    """moto's ``compute_checksum`` fed in chunks (same algorithms, same fallbacks)."""

    def __init__(self, algorithm: str) -> None:
        from moto.core.compat import HAS_CRT

        self.algorithm = algorithm.upper()
        self._crc = 0
        self._hash: Any = None
        self._update: Callable[[bytes], None]
        self.exact = self.algorithm in _EXACT_ALGORITHMS
        self._size = 4
        if self.algorithm in ("SHA1", "SHA256") or self.algorithm not in ("CRC32", "CRC32C", "CRC64NVME"):
            self._hash = hashlib.sha1(usedforsecurity=False) if self.algorithm == "SHA1" else hashlib.sha256()
            self._update = self._hash.update
            return
        self._update = self._crc32
        if self.algorithm == "CRC32C":
            with contextlib.suppress(ImportError):
                import crc32c

                self._update, self.exact = lambda data: self._set(crc32c.crc32c(data, self._crc)), True
        elif self.algorithm == "CRC64NVME" and HAS_CRT:
            from awscrt import checksums

            self._update, self.exact, self._size = lambda data: self._set(checksums.crc64nvme(data, self._crc)), True, 8

    def _set(self, crc: int) -> None:
        self._crc = crc

    def _crc32(self, data: bytes) -> None:
        self._crc = binascii.crc32(data, self._crc)

    def update(self, data: bytes) -> None:
        self._update(data)

    def digest(self) -> bytes:
        return self._hash.digest() if self._hash is not None else self._crc.to_bytes(self._size, "big")

    def value(self) -> str:
        return base64.b64encode(self.digest()).decode()


def refusal(headers: Any, md5: Callable[[], bytes], checksum: Callable[[str], Checksum], key: str) -> Any:
    """S3's answer to a body whose Content-MD5 or ``x-amz-checksum-*`` header does not match it; None if it does."""
    if (given := headers.get("Content-MD5")) is not None:
        try:
            expected = base64.b64decode(given, validate=True)
        except (binascii.Error, ValueError):
            expected = b""
        if len(expected) != 16:
            return error_response(400, "InvalidDigest", "The Content-MD5 you specified was not valid.", key)
        if expected != md5():
            return error_response(
                400, "BadDigest", "The Content-MD5 you specified did not match what we received.", key
            )
    announced = {headers.get("x-amz-sdk-checksum-algorithm", "").upper()}
    for name, value in headers.items():
        lower = name.lower()
        if lower.startswith("x-amz-checksum-") and lower not in _NOT_VALUES:
            algorithm = lower[len("x-amz-checksum-") :].upper()
            announced.add(algorithm)
            if not _well_formed(value, _DIGEST_SIZES.get(algorithm)):
                return error_response(400, "InvalidRequest", f"Value for {lower} header is invalid.", key)
    for algorithm in sorted(announced & _DIGEST_SIZES.keys()):
        if not Checksum(algorithm).exact:  # moto would compute CRC32 in its place: nothing checked, a CRC32 answered
            return not_implemented(
                f"the local AWS emulator cannot compute {algorithm} checksums (neither crc32c nor awscrt is "
                f"installed); it computes {', '.join(sorted(a for a in _DIGEST_SIZES if Checksum(a).exact))}: "
                "send one of those, or none",
                key,
            )
    for name, value in headers.items():
        if name.lower().startswith("x-amz-checksum-") and name.lower() not in _NOT_VALUES:
            computed = checksum(name[len("x-amz-checksum-") :].upper())
            if computed.exact and computed.value() != value.strip():
                return error_response(
                    400,
                    "BadDigest",
                    f"The {computed.algorithm} you specified did not match the calculated checksum.",
                    key,
                )
    return None


def _well_formed(value: str, size: int | None) -> bool:
    """A checksum header's value: base64 of ``size`` bytes (an algorithm of unknown size: any base64)."""
    try:
        decoded = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return size is None or len(decoded) == size


def _checksum_of(data: bytes, algorithm: str) -> Checksum:
    checksum = Checksum(algorithm)
    checksum.update(data)
    return checksum


class ReceivedBody:
    """A request body received into a file, standing in for moto's ``bytes``: a FakeKey adopts the file.

    With a state folder the file is in ``s3/blobs/`` (adopted by renaming it to the key's own
    body file: one write of the bytes); without, an anonymous temporary file that becomes the
    key's buffer. Not adopted (a refused request), it is removed.
    """

    def __init__(self, algorithms: set[str]) -> None:
        from scones.emulator.persistence import s3_objects

        folder = s3_objects.blobs_folder()
        self.path = os.path.join(folder, f"incoming-{uuid.uuid4().hex}") if folder else None
        self.file: IO[bytes] | None = (
            open(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600), "w+b")
            if self.path
            else tempfile.TemporaryFile()
        )
        self.size = 0
        self._md5 = hashlib.md5(usedforsecurity=False)
        self.checksums = {algorithm: Checksum(algorithm) for algorithm in algorithms}
        if self.path:  # removed unless adopted, whatever happens to the request
            self._finalizer = weakref.finalize(self, _unlink, self.path)

    @classmethod
    def copy_of(cls, source: KeyBody) -> ReceivedBody:
        """Another key's bytes (CopyObject, UploadPartCopy), copied a chunk at a time."""
        body = cls(set())
        try:
            for chunk in key_chunks(source.key, source.start, source.stop):
                body.write(chunk)
            body.finish()
        except BaseException:
            body.discard()
            raise
        return body

    def write(self, data: bytes) -> None:
        assert self.file is not None
        self.file.write(data)
        self._md5.update(data)
        for checksum in self.checksums.values():
            checksum.update(data)
        self.size += len(data)

    def finish(self) -> None:
        """Every byte in the file (the group commit puts it on disk with the key's record)."""
        assert self.file is not None
        self.file.flush()

    def md5(self) -> bytes:
        return self._md5.digest()

    def checksum(self, algorithm: str) -> Checksum:
        if algorithm not in self.checksums:  # not announced in a header: computed from the file
            checksum = Checksum(algorithm)
            for chunk in _file_chunks(self.file, 0, self.size):
                checksum.update(chunk)
            self.checksums[algorithm] = checksum
        return self.checksums[algorithm]

    def __len__(self) -> int:
        return self.size

    def __bool__(self) -> bool:
        return True  # moto passes ``self.body or b""``

    def adopt_into(self, key: Any) -> None:
        """Make this file ``key``'s body (FakeKey's ``value`` setter, for a ReceivedBody)."""
        from scones.emulator.persistence.s3_objects import Blob

        assert self.file is not None
        buffer = key._value_buffer
        if isinstance(buffer, Blob):
            self.file.close()
            assert self.path is not None
            buffer.adopt(self.path, self.size)
            self._finalizer.detach()
        else:
            with contextlib.suppress(Exception):
                buffer.close()
            if self.path is not None:  # a state folder appeared later (not in practice): copy to moto's buffer
                key._value_buffer = tempfile.TemporaryFile()
                for chunk in _file_chunks(self.file, 0, self.size):
                    key._value_buffer.write(chunk)
                self.file.close()
            else:
                key._value_buffer = self.file
        self.file = None
        key.contentsize = self.size
        if key._etag is None:
            key._etag = self._md5.hexdigest()

    def discard(self) -> None:
        """Not adopted (a refusal, an error): the file goes."""
        if self.file is not None:
            self.file.close()
            self.file = None
            if self.path is not None:
                _unlink(self.path)
                self._finalizer.detach()


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _file_chunks(file: Any, start: int, stop: int) -> Iterator[bytes]:
    position = start
    while position < stop:
        file.seek(position)
        chunk = file.read(min(CHUNK, stop - position))
        if not chunk:
            return
        position += len(chunk)
        yield chunk


def key_chunks(key: Any, start: int, stop: int) -> Iterator[bytes]:
    """Bytes ``start`` to ``stop`` of a FakeKey's body, a chunk at a time.

    A body file (state folder) is opened on its own; moto's buffer is shared by every reader
    of the key, so each chunk is read under the key's lock, as moto's ``value`` does.
    """
    from scones.emulator.persistence.s3_objects import Blob

    buffer = key._value_buffer
    if isinstance(buffer, Blob):
        with open(buffer.name, "rb") as body:
            yield from _file_chunks(body, buffer.offset + start, buffer.offset + stop)
        return
    position = start
    while position < stop:
        with key.lock:
            buffer.seek(position)
            chunk = buffer.read(min(CHUNK, stop - position))
        if not chunk:
            return
        position += len(chunk)
        yield chunk


class KeyBody:
    """GetObject's body for a large key: what moto's ``key.value`` gives while it answers
    GetObject. Sliced by moto's Range handling as bytes would be; iterated by the server."""

    def __init__(self, key: Any, start: int = 0, stop: int | None = None) -> None:
        self.key = key  # held: the key's body file stays until this answer is sent
        self.start, self.stop = start, key.size if stop is None else stop

    def __len__(self) -> int:
        return max(0, self.stop - self.start)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __getitem__(self, item: slice) -> KeyBody:
        if not isinstance(item, slice) or item.step not in (None, 1):
            raise TypeError("a KeyBody is only sliced by a byte range")
        begin, end, _ = item.indices(len(self))
        return KeyBody(self.key, self.start + begin, self.start + max(begin, end))

    def __iter__(self) -> Iterator[bytes]:
        """The server's iteration of GetObject's answer (a copy reads with key_chunks, uncounted)."""
        STATS.streamed_out += 1
        return key_chunks(self.key, self.start, self.stop)


def _streamable(request: Any) -> bool:
    """A PutObject or UploadPart whose plain (not aws-chunked, not form) body is over the threshold."""
    if request.method != "PUT" or (request.content_length or 0) <= STREAM_THRESHOLD:
        return False
    headers = request.headers
    if "x-amz-copy-source" in headers or headers.get("x-amz-content-sha256", "").startswith("STREAMING-"):
        return False
    if "aws-chunked" in headers.get("Content-Encoding", ""):
        return False
    if headers.get("Content-Type", "").startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return False
    query = set(request.args.keys())
    return query <= _STREAMABLE_QUERY and ("uploadId" in query) == ("partNumber" in query)


def _announced_algorithms(headers: Any) -> set[str]:
    names = {headers.get("x-amz-sdk-checksum-algorithm", "").upper()}
    names.update(
        n[len("x-amz-checksum-") :].upper()
        for n in headers.keys()
        if n.lower().startswith("x-amz-checksum-") and n.lower() not in _NOT_VALUES
    )
    return {n for n in names if n}


class BodyTimeout(Exception):
    """The client sent no byte of its body for :data:`BODY_IDLE_TIMEOUT` seconds."""


def receive(request: Any) -> ReceivedBody:
    """The request's body from the socket to a file; moto then reads an empty body.

    :raises OSError: the disk refused it (nothing kept)
    :raises EOFError: the client sent less than its Content-Length (nothing kept)
    :raises BodyTimeout: the client stopped sending (nothing kept; without it, a stalled
        client kept a server thread, a file descriptor and a partial file forever)
    """
    from werkzeug.exceptions import ClientDisconnected

    connection = request.environ.get("werkzeug.socket")
    previous = connection.gettimeout() if connection is not None else None
    if connection is not None:
        connection.settimeout(BODY_IDLE_TIMEOUT)
    body = ReceivedBody(_announced_algorithms(request.headers))
    try:
        remaining = request.content_length
        stream = request.stream
        while remaining > 0:
            try:
                chunk = stream.read(min(CHUNK, remaining))
            except (
                ClientDisconnected
            ) as exc:  # werkzeug's LimitedStream on a body cut short (an HTTPException: its HTML 400)
                if isinstance(exc.__context__, TimeoutError):
                    raise BodyTimeout() from exc
                chunk = b""
            if not chunk:
                raise EOFError("the request body ended before its Content-Length")
            body.write(chunk)
            remaining -= len(chunk)
        body.finish()
    except BaseException:
        body.discard()
        raise
    finally:
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.settimeout(previous)
    request._cached_data = b""  # werkzeug's cache of request.data: what moto reads
    STATS.streamed_in += 1
    return body


def _streaming_key_response(original: Callable[..., Any]) -> Callable[..., Any]:
    """``S3Response.key_response``: a large PutObject / UploadPart body received to a file first."""

    def key_response(self: Any, request: Any, full_url: str, headers: Any) -> Any:
        if not _streamable(request):
            return original(self, request, full_url, headers)
        key = request.path
        try:
            body = receive(request)
        except EOFError:
            return _closing(
                error_response(
                    400,
                    "IncompleteBody",
                    "You did not provide the number of bytes specified by the Content-Length HTTP header",
                    key,
                )
            )
        except BodyTimeout:
            return _closing(
                error_response(
                    400,
                    "RequestTimeout",
                    "Your socket connection to the server was not read from or written to within the timeout "
                    "period. Idle connections will be closed.",
                    key,
                )
            )
        except OSError as exc:
            return error_response(
                500,
                "InternalError",
                f"the local AWS emulator could not write this request's body ({type(exc).__name__}: {exc}); "
                "nothing was stored",
                key,
            )
        request.scones_received_body = body
        try:
            return original(self, request, full_url, headers)
        finally:
            body.discard()  # a no-op once a FakeKey adopted it

    key_response.__wrapped__ = original  # type: ignore[attr-defined]
    return key_response


def _closing(answer: tuple[int, dict[str, str], str]) -> tuple[int, dict[str, str], str]:
    """The answer, and the connection closed after it: the rest of the body is not read."""
    status, headers, text = answer
    return status, {**headers, "Connection": "close"}, text


def _setup_class(original: Callable[..., Any]) -> Callable[..., Any]:
    """moto's request parsing: the received body stands in for the bytes it would have read."""

    def setup_class(self: Any, request: Any, full_url: str | None = None, headers: Any = None) -> None:
        original(self, request, full_url, headers)
        received = getattr(request, "scones_received_body", None)
        if received is not None:
            self.body = self.raw_body = received
        elif isinstance(self.raw_body, (bytes, bytearray)) and len(self.raw_body) > STATS.largest_body_read_by_moto:
            STATS.largest_body_read_by_moto = len(self.raw_body)

    setup_class.__wrapped__ = original  # type: ignore[attr-defined]
    return setup_class


def _checked(original: Callable[..., Any]) -> Callable[..., Any]:
    """PutObject / UploadPart: Content-MD5 and ``x-amz-checksum-*`` checked first (moto checks neither)."""

    def method(self: Any) -> Any:
        body = self.body  # decoded by moto when aws-chunked
        if isinstance(body, ReceivedBody):
            refused = refusal(self.headers, body.md5, body.checksum, self.parse_key_name())
        else:
            data = body or b""
            if isinstance(data, str):
                data = data.encode()
            refused = refusal(
                self.headers,
                lambda: hashlib.md5(data, usedforsecurity=False).digest(),
                lambda algorithm: _checksum_of(data, algorithm),
                self.parse_key_name(),
            )
        return refused if refused is not None else original(self)

    method.__wrapped__ = original  # type: ignore[attr-defined]
    method.__doc__ = original.__doc__
    return method


def _get_checksum(original: Callable[..., Any]) -> Callable[..., Any]:
    """moto's ``_get_checksum`` for a received body: the value it would compute from the bytes."""

    def get_checksum(self: Any, response_headers: dict[str, Any]) -> tuple[str, str | None]:
        if not isinstance(self.raw_body, ReceivedBody):
            return original(self, response_headers)
        algorithm = self.headers.get("x-amz-sdk-checksum-algorithm", "")
        header = f"x-amz-checksum-{algorithm.lower()}"
        value = self.headers.get(header)
        if not value and algorithm:
            value = self.raw_body.checksum(algorithm.upper()).value()
        if value:
            response_headers[header] = value
        return algorithm, value

    get_checksum.__wrapped__ = original  # type: ignore[attr-defined]
    return get_checksum


def _lazy(original: Callable[..., Any]) -> Callable[..., Any]:
    """While ``original`` runs, a large key's ``value`` is a :class:`KeyBody`: moto's GetObject answers
    with it; its CopyObject and UploadPartCopy hand it to the new FakeKey, which copies it in chunks."""

    def method(*args: Any, **kwargs: Any) -> Any:
        previous, _reading.on = getattr(_reading, "on", False), True
        try:
            return original(*args, **kwargs)
        finally:
            _reading.on = previous

    method.__wrapped__ = original  # type: ignore[attr-defined]
    method.__doc__ = original.__doc__
    return method


def _value_property(original: property) -> property:
    """``FakeKey.value``: a KeyBody while a lazy reader runs (large keys); a ReceivedBody or a KeyBody adopted."""

    def get(key: Any) -> Any:
        if getattr(_reading, "on", False) and key.size > STREAM_THRESHOLD:
            return KeyBody(key)
        return original.fget(key)  # type: ignore[misc]

    def set_(key: Any, value: Any) -> None:
        if isinstance(value, KeyBody):  # a copy of (part of) another key: read into a file of its own
            value = ReceivedBody.copy_of(value)
        if isinstance(value, ReceivedBody):
            value.adopt_into(key)
        else:
            original.fset(key, value)  # type: ignore[misc]

    return property(get, set_, doc=original.__doc__)


def _streaming_complete(original: Callable[..., Any]) -> Callable[..., Any]:
    """``FakeMultipart.complete``: a large object's parts joined in a file, not in a bytearray.

    moto's checks and results, in its order: InvalidPart (a part missing or another ETag),
    EntityTooSmall (a part but the last under 5 MiB), MalformedXML (no part); the ETag is the
    MD5 of the parts' MD5s, "-<count>"; the checksum is COMPOSITE (of the parts' checksums) or
    FULL_OBJECT (of the whole body), CRC64NVME when none was asked for.
    """

    def complete(self: Any, body: Any) -> Any:
        from moto.s3.exceptions import EntityTooSmall, InvalidPart, MalformedXML
        from moto.s3.models import S3_UPLOAD_PART_MIN_SIZE
        from moto.s3.utils import compute_checksum

        listed = list(body)
        size = sum(part.contentsize for number, _ in listed if (part := self.parts.get(number)) is not None)
        if size <= STREAM_THRESHOLD:
            return original(self, iter(listed))
        algorithm = self.metadata.get("x-amz-checksum-algorithm") or "CRC64NVME"
        kind = self.metadata.get("x-amz-checksum-type") or ("FULL_OBJECT" if algorithm == "CRC64NVME" else "COMPOSITE")
        parts, last = [], None
        for number, etag in listed:
            part = self.parts.get(number)
            if part is None or part.etag.replace('"', "") != etag.replace('"', ""):
                raise InvalidPart()
            if last is not None and last.contentsize < S3_UPLOAD_PART_MIN_SIZE:
                raise EntityTooSmall()
            parts.append(part)
            last = part
        if not parts:
            raise MalformedXML
        joined = ReceivedBody(set())
        whole, composite = Checksum(algorithm), bytearray()
        md5s = hashlib.md5(usedforsecurity=False)
        try:
            for part in parts:
                md5s.update(bytes.fromhex(part.etag.replace('"', "")))
                own = Checksum(algorithm) if kind == "COMPOSITE" else whole
                for chunk in key_chunks(part, 0, part.contentsize):
                    joined.write(chunk)
                    own.update(chunk)
                if kind == "COMPOSITE":
                    composite.extend(own.digest())
            joined.finish()
        except BaseException:
            joined.discard()
            raise
        if kind == "COMPOSITE":
            details = (kind, compute_checksum(bytes(composite), algorithm).decode(), len(parts))
        else:
            details = (kind, whole.value(), 1)
        STATS.streamed_in += 1
        return joined, f"{md5s.hexdigest()}-{len(parts)}", details

    complete.__wrapped__ = original  # type: ignore[attr-defined]
    return complete


def install_streaming() -> None:
    from moto.s3.models import FakeKey, FakeMultipart, S3Backend
    from moto.s3.responses import S3Response

    from scones.emulator.sagemaker.seams import add_control_route

    S3Response.key_response = _streaming_key_response(S3Response.key_response)  # type: ignore[method-assign]
    S3Response.setup_class = _setup_class(S3Response.setup_class)  # type: ignore[method-assign]
    S3Response._get_checksum = _get_checksum(S3Response._get_checksum)  # type: ignore[method-assign]
    S3Response.get_object = _lazy(S3Response.get_object)  # type: ignore[method-assign]
    S3Backend.copy_object = _lazy(S3Backend.copy_object)  # type: ignore[method-assign]
    S3Backend.upload_part_copy = _lazy(S3Backend.upload_part_copy)  # type: ignore[method-assign]
    for name in ("put_object", "upload_part"):
        setattr(S3Response, name, _checked(getattr(S3Response, name)))
    FakeKey.value = _value_property(FakeKey.value)  # type: ignore[method-assign,assignment]
    FakeMultipart.complete = _streaming_complete(FakeMultipart.complete)  # type: ignore[method-assign]
    add_control_route(STATS_PATH, STATS.answer)
