"""The UI tests' S3: moto in-process, one bucket."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

BUCKET = "scones-ui-test"


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client
