"""S3 for the local emulator: conditional writes that hold under concurrency, as S3's do.

moto 5.2.5 already answers ``If-None-Match: *`` and ``If-Match`` on PutObject and
``If-None-Match`` on CompleteMultipartUpload, but (1) it checks the condition and then writes
in two steps, so two concurrent conditional writers both succeed; (2) CompleteMultipartUpload
ignores ``If-Match``; (3) it never answers 409 ConditionalRequestConflict; and (4) a PutObject
replacing a key closes the old object's buffer at once, so a concurrent PutObject or GetObject
still reading that object answered HTTP 500 "I/O operation on closed file".

This plug-in: every write to a key (PutObject, CopyObject, CompleteMultipartUpload,
DeleteObject) runs under that key's lock, so a condition is checked and the write done as one
step (the loser gets 412 PreconditionFailed, last unconditional writer wins); If-Match on
CompleteMultipartUpload (404 NoSuchKey, 412); 409 ConditionalRequestConflict when the key was
written or deleted between CreateMultipartUpload and a conditional CompleteMultipartUpload, as
S3 documents; and replaced or deleted objects are closed when the last request reading them
is done, not before.

Large bodies (over ``streaming.STREAM_THRESHOLD``, 8 MiB) are streamed between the socket and
a file, never held whole in memory; Content-MD5 and ``x-amz-checksum-*`` are checked (400
BadDigest) for every PutObject and UploadPart (streaming.py).

Public surface::

    install()       patch moto's S3 (LocalAWS calls it once, before the server answers)
    check_seams()   fail loudly, naming what moved, when moto's S3 changes (seams.py)
"""

from __future__ import annotations

from scones.emulator.s3.seams import MOTO_VERSION, SeamMoved, check_seams

__all__ = ["MOTO_VERSION", "SeamMoved", "check_seams", "install"]

_installed = False


def install() -> None:
    """Patch moto's S3 response and key store; idempotent."""
    global _installed
    if _installed:
        return
    check_seams()
    from scones.emulator.s3.models import install_key_store
    from scones.emulator.s3.responses import install_responses
    from scones.emulator.s3.streaming import install_streaming

    install_key_store()
    install_responses()
    install_streaming()
    _installed = True
