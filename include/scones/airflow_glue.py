"""What every DAG shares: default args, the retry policy, settings and AWS clients in tasks.

Light on purpose: DAG files import it at parse time, so it imports only ``airflow.sdk``
and this package's small modules (no numpy, boto3 clients are built inside tasks).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from airflow.sdk import Asset
from airflow.sdk.definitions.retry_policy import ExceptionRetryPolicy, RetryAction, RetryRule

from scones.deployment.verify import DeploymentRolledBack, RollbackFailed
from scones.errors import (
    ChecksumMismatch,
    ConfigurationError,
    CorruptArchive,
    DestinationError,
    PublishConflict,
    SourceUnreachable,
    TrainingJobFailed,
)
from scones.settings import Settings, airflow_variables, load_settings
from scones.training.gate import MissingMetric

OWNER = "ml-platform"
AWS_CONN_ID = "aws_default"

#: Retrying cannot fix bad input, a failed training job, a job that reported no metric, or a
#: rolled-back deployment: fail at once and say why. A source that cannot be read was already
#: retried inside the download (a missing file is not retried at all); a lost publish race
#: would lose again. Anything else (network, S3 outages: DestinationUnavailable, throttling,
#: an endpoint still warming) gets the normal retries with exponential backoff.
NO_RETRY_ON_BAD_INPUT = ExceptionRetryPolicy(
    rules=[
        RetryRule(exception=exc, action=RetryAction.FAIL, reason=f"{exc.__name__}: fix the input, then rerun")
        for exc in (ConfigurationError, ChecksumMismatch, CorruptArchive, DestinationError, MissingMetric,
                    DeploymentRolledBack, RollbackFailed, TrainingJobFailed, SourceUnreachable, PublishConflict)
    ]
)

DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    "retry_policy": NO_RETRY_ON_BAD_INPUT,
}

#: The dataset the ETL publishes and training consumes. Its identity is the name; the URI is
#: informative (from the environment at parse time).
_PARSE_TIME = load_settings()
DATASET_ASSET = Asset(name="scones_cifar_vehicles", uri=_PARSE_TIME.dataset_uri, group="dataset")


def task_settings(params: Mapping[str, Any] | None = None) -> Settings:
    """Settings inside a running task: Params, then Variables, environment, defaults."""
    overrides = {k: v for k, v in (params or {}).items() if k in Settings.__dataclass_fields__}
    return load_settings(overrides, variables=airflow_variables())


def aws_client(service: str, settings: Settings, **config: Any) -> Any:
    """A boto3 client through the Airflow connection, so its ``endpoint_url`` applies."""
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
    from botocore.config import Config

    hook = AwsBaseHook(aws_conn_id=AWS_CONN_ID, client_type=service, region_name=settings.region,
                       config=Config(**config) if config else None)  # fmt: skip
    return hook.get_conn()
