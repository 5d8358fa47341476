"""InvokeEndpoint's HTTP side: the raw request body in, the model's answer out."""

from __future__ import annotations

import json
from urllib.parse import unquote

from moto.core.common_types import TYPE_RESPONSE
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

#: InvokeEndpoint's request limit (https://docs.aws.amazon.com/sagemaker/latest/dg/realtime-endpoints-test-endpoints.html).
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024


class SageMakerRuntimeEmulatorResponse(SageMakerRuntimeResponse):
    # The seam behind "HTTP 500 on a PNG": BaseResponse.setup_class decodes every body as
    # UTF-8 unless the response class asks for raw bytes. Images are not UTF-8.
    use_raw_body = True

    def invoke_endpoint(self) -> TYPE_RESPONSE:
        body = self.body if isinstance(self.body, bytes) else str(self.body or "").encode()
        if len(body) > MAX_PAYLOAD_BYTES:
            # What SageMaker's front end answers (no error type: boto3 shows the code "413"); moto takes
            # the status from the headers.
            message = f"HTTP content length exceeded {MAX_PAYLOAD_BYTES} bytes."
            return 413, {"Content-Type": "application/json", "status": 413}, json.dumps({"message": message})
        result = self.sagemakerruntime_backend.invoke_endpoint(  # type: ignore[call-arg]
            endpoint_name=unquote(self.path.split("/")[2]),
            body=body,
            content_type=self.headers.get("Content-Type") or "application/octet-stream",
            accept=self.headers.get("Accept"),
            target_variant=self.headers.get("X-Amzn-SageMaker-Target-Variant"),
            inference_id=self.headers.get("X-Amzn-SageMaker-Inference-Id"),
        )
        headers = {"Content-Type": result.content_type, "x-Amzn-Invoked-Production-Variant": result.variant}
        return 200, headers, result.body
