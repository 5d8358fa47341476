"""What every DAG shares: default args, the retry policy, settings and AWS clients in tasks.

Light on purpose: DAG files import it at parse time, so it imports only ``airflow.sdk``
and this package's small modules (no numpy, boto3 clients are built inside tasks).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from airflow.sdk import Asset
from airflow.sdk.definitions.retry_policy import ExceptionRetryPolicy, RetryAction, RetryRule

from scones.errors import NonRetryableError, NothingToDoYet
from scones.settings import Settings, load_settings, split_overrides

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
    return load_settings(split_overrides(params or {}), variables=task_variables())


#: The secrets backends of a worker that sets none of its own: the worker's AIRFLOW_VAR_*
#: environment, then the Execution API (Airflow's DEFAULT_SECRETS_SEARCH_PATH_WORKERS).
DEFAULT_WORKER_BACKENDS = frozenset(
    {
        "airflow.secrets.environment_variables.EnvironmentVariablesBackend",
        "airflow.sdk.execution_time.secrets.execution_api.ExecutionAPISecretsBackend",
    }
)


def task_variables(prefix: str = "scones_") -> Callable[[str], str | None]:
    """The lookup of the Variables named ``prefix...`` for a running task, asking the API server
    once for their names rather than once for each setting.

    ``Variable.get`` of a Variable that does not exist is still an Execution API request (404),
    and the settings are about 45, most never set: 0.37 s of CPU for each ``task_settings()`` in
    ``airflow dags test``, and 45 requests to the API server at the start of every task of a
    stack. Here the names stored under ``prefix`` come in one request (``Variable.keys``); only
    those, and those the worker's environment sets (``AIRFLOW_VAR_<NAME>``), are then read, by
    ``Variable.get`` as before. Each setting is asked for in turn, as before, when the worker has
    a secrets backend of its own (``Variable.keys`` lists the metadata database only), when
    Airflow runs several teams (a team's listing leaves out the global Variables), or when the
    names cannot be listed (an API server older than the 2026-06-30 API, no task context).

    A Variable that only the API server's own environment or secrets backend holds is not seen.
    """
    from airflow.sdk import Variable

    def get(key: str) -> str | None:
        return Variable.get(key, default=None)

    try:
        from airflow.configuration import conf
        from airflow.sdk.execution_time.supervisor import ensure_secrets_backend_loaded

        backends = {f"{type(b).__module__}.{type(b).__qualname__}" for b in ensure_secrets_backend_loaded()}
        if not backends <= DEFAULT_WORKER_BACKENDS:
            return get
        if conf.getboolean("core", "multi_team", fallback=False):
            return get  # a team's task lists its team's Variables only; Variable.get reads the global ones too
        # lower case: a MySQL database compares keys without case, so Variable.get finds SCONES_BUCKET too
        stored = frozenset(key.lower() for key in Variable.keys(prefix=prefix))
    except Exception as exc:  # whatever keeps the names from being listed: ask for each, as Airflow would
        logging.getLogger(__name__).info("Variables %s* not listed (%s): reading each setting's in turn", prefix, exc)
        return get

    def get_if_set(key: str) -> str | None:
        return get(key) if key.lower() in stored or f"AIRFLOW_VAR_{key.upper()}" in os.environ else None

    return get_if_set


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
