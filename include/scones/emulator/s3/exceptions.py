"""S3's error responses the plug-in answers itself (XML, with S3's status codes)."""

from __future__ import annotations

from xml.sax.saxutils import escape


def error_response(
    status: int, code: str, message: str, key: str, condition: str = ""
) -> tuple[int, dict[str, str], str]:
    """An S3 error document: ``<Error><Code>...</Code><Message>...</Message>...</Error>``."""
    extra = f"<Condition>{escape(condition)}</Condition>" if condition else ""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<Key>{escape(key)}</Key>{extra}<RequestId>scones-emulator</RequestId></Error>"
    )
    return status, {"Content-Type": "application/xml"}, body


def not_implemented(message: str, resource: str) -> tuple[int, dict[str, str], str]:
    """S3's ``NotImplemented`` error document for an operation the emulator refuses, with HTTP 400
    (S3 answers 501; a 4xx is what every refusal of the emulator is, and no SDK retries it)."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>NotImplemented</Code><Message>{escape(message)}</Message>"
        f"<Resource>{escape(resource)}</Resource><RequestId>scones-emulator</RequestId></Error>"
    )
    return 400, {"Content-Type": "application/xml"}, body
