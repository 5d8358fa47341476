"""The SageMaker Python SDK (3.x, ``sagemaker.core``) against the emulator.

Its resource classes validate every response against SageMaker's API shapes (pydantic), so
they catch a field the emulator answers in the wrong type or shape, not only a wrong value.
"""

from __future__ import annotations

import json

import boto3
import pytest

from tests.emulator_sagemaker.cifar_subset import png


@pytest.fixture
def sdk_session(emulator, monkeypatch: pytest.MonkeyPatch) -> boto3.Session:
    """A boto3 session the SDK's clients build on; AWS_ENDPOINT_URL sends them to the emulator."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator.endpoint_url)
    return boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")


def test_sdk_reads_a_finished_training_job(sdk_session, trained_job) -> None:
    from sagemaker.core.resources import TrainingJob

    job = TrainingJob.get(trained_job["TrainingJobName"], session=sdk_session, region="us-east-1")

    assert job.training_job_status == "Completed"
    assert job.model_artifacts.s3_model_artifacts == trained_job["ModelArtifacts"]["S3ModelArtifacts"]
    metrics = {m.metric_name: m.value for m in job.final_metric_data_list}
    assert set(metrics) == {"train:accuracy", "validation:accuracy"}
    assert 0.5 <= metrics["validation:accuracy"] <= 1.0
    assert job.algorithm_specification.training_image == trained_job["AlgorithmSpecification"]["TrainingImage"]


def test_sdk_invokes_an_endpoint_and_reads_its_state(sdk_session, endpoint, small_dataset) -> None:
    from sagemaker.core.resources import Endpoint

    served = Endpoint.get(endpoint, session=sdk_session, region="us-east-1")
    assert served.endpoint_status == "InService"
    assert served.production_variants[0].variant_name == "AllTraffic"

    answer = served.invoke(
        body=png(small_dataset.validation.images[0]),
        content_type="image/png",
        accept="application/json",
        session=sdk_session,
        region="us-east-1",
    )
    body = answer.body.read() if hasattr(answer.body, "read") else answer.body
    probabilities = json.loads(body)
    assert len(probabilities) == 2 and sum(probabilities) == pytest.approx(1.0, abs=1e-5)
    assert answer.content_type == "application/json"
