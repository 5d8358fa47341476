"""``/moto-api/sagemaker/...``: the plug-in's control endpoints, beside moto's own.

=====================================  =======================================================
``POST /moto-api/sagemaker/capture/flush``  write every buffered data-capture record to S3 now;
                                            answers ``{"files", "records", "sampled", "captured"}``
=====================================  =======================================================

Example::

    requests.post("http://127.0.0.1:5000/moto-api/sagemaker/capture/flush").json()
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_types import TYPE_RESPONSE

from scones.emulator.sagemaker.capture import WRITER

CAPTURE_FLUSH_PATH = "sagemaker/capture/flush"


def capture_flush(request: Any, full_url: str, headers: Any) -> TYPE_RESPONSE:
    if request.method != "POST":
        return 405, {"Allow": "POST"}, "POST to flush the data capture buffers"
    return 200, {"Content-Type": "application/json"}, json.dumps(WRITER.flush())
