"""After the endpoint serves a new model: smoke-test it (rolling back a failing one), record it, clean up.

What the nightly DAG's last tasks decide, each in one function (the tasks only fetch clients and
pass XComs):

- :func:`smoke_test_or_roll_back`: one held-out image must come back as a probability vector;
  if the model answers wrongly (or with a ModelError), the endpoint goes back to the recorded
  deployment and :class:`~scones.errors.SmokeTestFailed` says so (not retried). Throttling or
  the network are raised as they are: the task's retries apply.
- :func:`deployment_of_run` / :func:`record_deployment`: the record of what now serves, from
  the run's training job, gate, endpoint, configs and dataset.
- :func:`cleanup_old_versions`: old models, endpoint configs and dataset versions, never the
  serving ones.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from scones.deployment.endpoint_smoke import model_failed, smoke_test
from scones.deployment.record import Deployment, read_current, write_current
from scones.deployment.rollback import roll_back
from scones.deployment.verify import check_still_serving
from scones.errors import SmokeTestFailed
from scones.settings import Settings

log = logging.getLogger(__name__)


def smoke_test_or_roll_back(
    s3: Any, sagemaker: Any, runtime: Any, settings: Settings, serving: Mapping[str, str], dataset: Mapping[str, Any]
) -> list[float]:
    """Smoke-test the endpoint ``serving`` names; roll it back if the model fails.

    :param serving: ``{"endpoint_name", "endpoint_config"}`` of this run's deployment.
    :param dataset: the pinned dataset (its validation manifest gives the held-out image).
    :raises DeploymentRolledBack: the endpoint does not serve this run's config any more (a try
        before rolled it back): nothing to test.
    :raises SmokeTestFailed: the model failed; the message says whether the endpoint was rolled back.
    """
    from scones.training import dataset as datasets  # looked up at call time: tests swap the image

    endpoint, config = serving["endpoint_name"], serving["endpoint_config"]
    check_still_serving(sagemaker, endpoint, config)
    key, image = datasets.first_validation_image(s3, dict(dataset))
    try:
        probabilities = smoke_test(runtime, endpoint, image, len(dataset["classes"]), pause=settings.poll_seconds)
    except Exception as exc:
        if not model_failed(exc):
            raise  # throttling, the network: the task's retries apply
        log.warning("the new model failed its smoke test on %s: %s; rolling back", key, exc)
        previous = read_current(s3, settings.bucket, settings.models_prefix)
        outcome = roll_back(sagemaker, endpoint, config, previous, delay=settings.poll_seconds)
        log.info("%s", outcome.reason)
        raise SmokeTestFailed(f"the new model failed its smoke test: {exc}. {outcome.reason}") from exc
    log.info("%s -> %s", key, dict(zip(dataset["classes"], probabilities, strict=True)))
    return probabilities


def deployment_of_run(
    *,
    training: Mapping[str, Any],
    gate: Mapping[str, Any],
    serving: Mapping[str, str],
    config: Mapping[str, Any],
    prepared: Mapping[str, Any],
    dataset: Mapping[str, Any],
    settings: Settings,
    deployed_at: datetime,
) -> Deployment:
    """The record of this run's deployment, from the XComs of the tasks that made it.

    :param training: the training operator's XCom (its ``Training`` has the job's final name,
        timestamped if a retry renamed it); ``gate``: the quality gate's; ``serving``:
        verify_deployment's; ``config``: configure_deployment's; ``prepared``:
        prepare_training's; ``dataset``: check_dataset's.
    """
    job = training["Training"]
    return Deployment(
        endpoint_name=serving["endpoint_name"],
        training_job=job["TrainingJobName"],
        model_name=config["Model"]["ModelName"],
        endpoint_config=serving["endpoint_config"],
        model_data_url=job["ModelArtifacts"]["S3ModelArtifacts"],
        validation_accuracy=gate["accuracy"],
        classes=list(dataset["classes"]),
        deployed_at=deployed_at.isoformat(),
        image=prepared["image"],
        dataset_uri=dataset["dataset_uri"],
        data_capture_uri=settings.data_capture_uri,
        dataset_version=dataset["dataset_version"],
    )


def record_deployment(
    s3: Any, sagemaker: Any, settings: Settings, serving: Mapping[str, str], deployment: Callable[[], Deployment]
) -> tuple[Deployment, list[str]]:
    """Write ``deployment()`` as what serves, if the endpoint still serves this run's config.

    :raises DeploymentRolledBack: it does not (rolled back after a failed smoke test, or changed
        since): the rejected model is never recorded.
    :return: the deployment and the keys written (``current.json`` last).
    """
    check_still_serving(sagemaker, serving["endpoint_name"], serving["endpoint_config"])
    recorded = deployment()
    return recorded, write_current(s3, settings.bucket, settings.models_prefix, recorded)


def cleanup_old_versions(
    sagemaker: Any, s3: Any, settings: Settings, endpoint_name: str, dataset_version: str
) -> dict[str, Any]:
    """Models and endpoint configs beyond the newest ``keep_versions`` (never the serving ones), then
    dataset versions beyond ``dataset_keep_versions`` or ``dataset_max_age_days`` and orphans of
    failed ETL runs (never the published one, ``dataset_version``, or one a kept model trained on)."""
    from scones.deployment.cleanup import cleanup
    from scones.etl.retention import protected_versions, prune_versions
    from scones.layout import DatasetLayout

    models = cleanup(sagemaker, settings.names.training_job_prefix, settings.keep_versions, endpoint_name)
    datasets = prune_versions(
        s3,
        DatasetLayout.of(settings),
        keep=settings.dataset_keep_versions,
        protected=protected_versions(s3, settings) | {dataset_version},
        max_age_days=settings.dataset_max_age_days,
    )
    return {**models, "dataset_versions_deleted": datasets.deleted + datasets.orphans_deleted}
