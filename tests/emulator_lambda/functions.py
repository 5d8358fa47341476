"""Build and deploy test functions on the emulator: zips in memory, one IAM role, unique names."""

from __future__ import annotations

import io
import json
import textwrap
import uuid
import zipfile
from typing import Any

import requests

TEST_RUNTIME = "python3.11"
_ASSUME_LAMBDA = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def zip_source(files: dict[str, str]) -> bytes:
    """A deployment package holding ``files`` (name -> source, dedented)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, source in files.items():
            archive.writestr(name, textwrap.dedent(source))
    return buffer.getvalue()


def lambda_role(session: Any) -> str:
    """The ARN of a role Lambda may assume (created once per emulator)."""
    iam = session.client("iam")
    try:
        return iam.get_role(RoleName="scones-test-lambda")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        return iam.create_role(RoleName="scones-test-lambda", AssumeRolePolicyDocument=_ASSUME_LAMBDA)["Role"]["Arn"]


def deploy(
    session: Any,
    source: str,
    *,
    handler: str = "app.handler",
    runtime: str = TEST_RUNTIME,
    name: str | None = None,
    **config: Any,
) -> str:
    """Create a function whose ``app.py`` is ``source``; return its name (unique per call)."""
    name = name or f"test-{uuid.uuid4().hex[:12]}"
    session.client("lambda").create_function(
        FunctionName=name,
        Runtime=runtime,
        Handler=handler,
        Role=lambda_role(session),
        Code={"ZipFile": zip_source({"app.py": source})},
        **config,
    )
    return name


def payload(response: dict[str, Any]) -> Any:
    """The JSON an Invoke response carries."""
    return json.loads(response["Payload"].read())


def set_lambda_config(endpoint_url: str, **settings: Any) -> dict[str, Any]:
    """Replace the emulator's ``lambda`` config through moto's control API; return the old one."""
    url = f"{endpoint_url}/moto-api/config"
    previous = requests.get(url, timeout=10).json()["lambda"]
    requests.post(url, json={"lambda": {**previous, **settings}}, timeout=10).raise_for_status()
    return previous


def restore_lambda_config(endpoint_url: str, previous: dict[str, Any]) -> None:
    requests.post(f"{endpoint_url}/moto-api/config", json={"lambda": previous}, timeout=10).raise_for_status()


def aws_connection_uri(endpoint_url: str, region: str = "us-east-1") -> str:
    """``AIRFLOW_CONN_AWS_DEFAULT`` for the emulator, as ``scones up`` configures Airflow."""
    return json.dumps(
        {
            "conn_type": "aws",
            "login": "testing",
            "password": "testing",
            "extra": {"endpoint_url": endpoint_url, "region_name": region},
        }
    )


class RecordingTaskInstance:
    """The one part of a task context the provider's operators touch here: XCom pushes."""

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any, **_: Any) -> None:
        self.xcom[key] = value


async def first_event(trigger: Any) -> Any:
    """Run a deferrable operator's trigger as the triggerer does, until its first event."""
    async for event in trigger.run():
        return event
    raise AssertionError(f"{type(trigger).__name__} ended without an event")
