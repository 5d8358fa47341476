"""What every DAG shares: default args, the retry policy, settings and AWS clients in tasks.

Light on purpose: DAG files import it at parse time, so it imports only ``airflow.sdk``
and this package's small modules (no numpy, boto3 clients are built inside tasks).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from airflow.sdk import Asset
from airflow.sdk.definitions.retry_policy import ExceptionRetryPolicy, RetryAction, RetryRule

from scones.errors import NonRetryableError, NothingToDoYet
from scones.settings import Settings, airflow_variables, load_settings, split_overrides

OWNER = "ml-platform"
AWS_CONN_ID = "aws_default"

#: The one retry rule: a :class:`~scones.errors.NonRetryableError` (bad input, a failed training
#: job, a job that reported no metric, a rolled-back deployment, a wrong smoke-test answer, a bad
#: workflow definition...) fails the task at once, saying why; retrying cannot fix it. A source
#: that cannot be read was already retried inside the download; a lost publish race would lose
#: again. Anything else (network, S3 outages: DestinationUnavailable, throttling, an endpoint
#: still updating) gets the normal retries with exponential backoff. Tasks raise these errors
#: (never AirflowFailException); the tree is drawn in scones.errors.
RETRY_POLICY = ExceptionRetryPolicy(
    rules=[
        RetryRule(
            exception=NonRetryableError,
            action=RetryAction.FAIL,
            reason="a NonRetryableError (scones.errors): retrying cannot fix it, see the error",
        )
    ]
)


def default_args(settings: Settings) -> dict[str, Any]:
    """Every task's defaults: two retries with exponential backoff from ``retry_delay_seconds``,
    and :data:`RETRY_POLICY` (a :class:`~scones.errors.NonRetryableError` is not retried)."""
    return {
        "owner": OWNER,
        "retries": 2,
        "retry_delay": timedelta(seconds=settings.retry_delay_seconds),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
        "retry_policy": RETRY_POLICY,
    }


#: The dataset the ETL publishes and training consumes. Its identity is the name; the URI is
#: informative (from the environment at parse time).
_PARSE_TIME = load_settings()
DATASET_ASSET = Asset(name="scones_cifar_vehicles", uri=_PARSE_TIME.dataset_uri, group="dataset")


def task_settings(params: Mapping[str, Any] | None = None) -> Settings:
    """Settings inside a running task: Params, then Variables, environment, defaults.

    A param named like a setting overrides it (``max_concurrency`` the workflow section's); any
    other param is a run option the task reads itself.
    """
    return load_settings(split_overrides(params or {}), variables=airflow_variables())


@contextmanager
def skipped_when_nothing_to_do() -> Iterator[None]:
    """A :class:`~scones.errors.NothingToDoYet` raised inside ends the task skipped, with its message."""
    from airflow.sdk.exceptions import AirflowSkipException

    try:
        yield
    except NothingToDoYet as exc:
        raise AirflowSkipException(str(exc)) from exc


def aws_client(service: str, settings: Settings, **config: Any) -> Any:
    """A boto3 client through the Airflow connection, so its ``endpoint_url`` applies."""
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
    from botocore.config import Config

    hook = AwsBaseHook(
        aws_conn_id=AWS_CONN_ID,
        client_type=service,
        region_name=settings.region,
        config=Config(**config) if config else None,
    )
    return hook.get_conn()
