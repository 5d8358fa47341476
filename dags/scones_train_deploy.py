"""
Nightly: train SageMaker's image-classification algorithm on the latest dataset, gate on validation accuracy, and deploy to the endpoint with data capture.

### What it does
1. **check_dataset**: pins the dataset version the ETL published (or refreshes it first when
   `refresh_dataset` is on) and checks its classes; every later task, the training job's
   tags and the deployment record name that version. A scheduled run that finds no dataset
   yet ends skipped, saying so.
2. **prepare_training**: resolves the algorithm's image for the region (SageMaker SDK), the
   execution role, a job name unique to the run, and the CreateTrainingJob config.
3. **train_model**: the provider's SageMakerTrainingOperator; the job's log is printed here.
   A failed or stopped job fails this task at once (no retry) with the job's FailureReason.
   A retry (the worker died meanwhile) waits for the job the earlier try started, if it is
   still running or has completed, instead of paying for a second one (to train anew in the
   same run, clear prepare_training too: it names a new job).
4. **evaluate_model**: the quality gate. Deploys only if `validation:accuracy` reaches
   `min_validation_accuracy` and is not worse than the serving model's by more than
   `accuracy_tolerance`; otherwise the deployment tasks are **skipped**, reason in this log.
5. **configure_deployment** / **deploy_endpoint**: a new model and endpoint config (fresh
   names, data capture on), then the endpoint is created, or updated in place: the old config
   serves until the new one is InService.
6. **verify_deployment**: the endpoint really serves the new config (a failed update rolls
   back to the old model, which keeps serving, and fails this task).
7. **smoke_test_endpoint**: one held-out image must give a probability vector of the right
   length summing to 1. If the model answers wrongly (or with a ModelError), the endpoint is
   put back on the recorded deployment (blue/green again) and the run fails, saying so; a
   first deployment has nothing to go back to and stays. **record_deployment** writes
   `models/deployments/current.json`.
8. **cleanup_old_versions**: old models and endpoint configs beyond `keep_versions` are
   deleted, never the serving ones; then dataset versions beyond `dataset_keep_versions`
   (or older than `dataset_max_age_days`) and orphans of failed ETL runs, never the
   published version or one a serving or kept model trained on.

Runs at 02:00 UTC and whenever the ETL publishes a new dataset; one run at a time.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import Param, chain, dag, task
from airflow.timetables.assets import AssetOrTimeSchedule
from airflow.timetables.trigger import CronTriggerTimetable

from scones.airflow_glue import AWS_CONN_ID, DATASET_ASSET, default_args, task_settings
from scones.deployment.endpoint_operator import EndpointDeployOperator
from scones.settings import load_settings
from scones.training.job_operator import TrainingJobOperator

DAG_ID = Path(__file__).stem
DEFAULTS = load_settings()  # environment and defaults only: no Variables at parse time
TRAINING_WAIT_SECONDS = DEFAULTS.max_training_seconds + 1800
GPU_TRAINING_TYPES = ["ml.g4dn.xlarge", "ml.g4dn.2xlarge", "ml.g5.xlarge", "ml.g5.2xlarge", "ml.p3.2xlarge"]
HOSTING_TYPES = ["ml.m5.large", "ml.m5.xlarge", "ml.c5.large", "ml.c5.xlarge", "ml.g4dn.xlarge"]


@task(inlets=[DATASET_ASSET])
def check_dataset(params: dict | None = None, dag_run=None) -> dict:
    """Pin the published dataset version (running the ETL first if asked) and check its classes.

    A scheduled run that finds no dataset yet (the first start of `scones up`) ends skipped
    with the same message; a manual run fails with it.
    """
    from scones.airflow_glue import aws_client, skipped_when_nothing_to_do
    from scones.training.dataset import dataset_for_run

    settings = task_settings(params)
    s3 = aws_client("s3", settings, max_pool_connections=settings.upload_concurrency + 4)
    with skipped_when_nothing_to_do():
        dataset = dataset_for_run(
            s3,
            settings,
            refresh=bool((params or {}).get("refresh_dataset")),
            run_type=getattr(dag_run, "run_type", None),
        )
    print(
        f"dataset version {dataset['dataset_version']} ({dataset['dataset_uri']}): classes {dataset['classes']}, "
        f"{dataset['num_training_samples']} training images"
    )
    return dataset


@task(multiple_outputs=True)
def prepare_training(dataset: dict, params: dict | None = None) -> dict:
    """Image URI, role, unique job name, CreateTrainingJob config."""
    from scones.airflow_glue import aws_client
    from scones.training.prepare import prepare_training_config

    settings = task_settings(params)
    return prepare_training_config(settings, dataset, aws_client("iam", settings), pendulum.now("UTC"))


@task.short_circuit(ignore_downstream_trigger_rules=True)
def evaluate_model(training: dict, params: dict | None = None) -> dict | bool:
    """The quality gate: returns the decision, or False to skip the deployment tasks."""
    from scones.airflow_glue import aws_client
    from scones.deployment.record import read_current
    from scones.training.gate import evaluate

    settings = task_settings(params)
    job = training["Training"]
    decision = evaluate(
        job, read_current(aws_client("s3", settings), settings.bucket, settings.models_prefix), settings
    )
    print(f"quality gate for {job['TrainingJobName']}: {'DEPLOY' if decision.deploy else 'SKIP'}: {decision.reason}")
    return {"accuracy": decision.accuracy, "reason": decision.reason} if decision.deploy else False


@task
def configure_deployment(training: dict, prepared: dict, params: dict | None = None) -> dict:
    """Model + endpoint config (data capture on) + endpoint, named after the job."""
    from scones.deployment.endpoint_config import deployment_config_for

    # The operator's XCom has the job's real name, even if a retry renamed it.
    return deployment_config_for(task_settings(params), training["Training"], prepared)


@task
def verify_deployment(deployed: dict, config: dict) -> dict:
    """Fail if the endpoint rolled back to its previous config (the old model still serves)."""
    from scones.deployment.verify import verify_serving

    endpoint = verify_serving(deployed["Endpoint"], config["EndpointConfig"]["EndpointConfigName"])
    print(f"endpoint {endpoint['EndpointName']} serves {endpoint['EndpointConfigName']} ({endpoint['EndpointStatus']})")
    return {"endpoint_name": endpoint["EndpointName"], "endpoint_config": endpoint["EndpointConfigName"]}


@task
def smoke_test_endpoint(serving: dict, dataset: dict, params: dict | None = None) -> list[float]:
    """One held-out image must come back as a probability vector over the classes; if the model
    answers wrongly, the endpoint goes back to the recorded deployment and the run fails."""
    from scones.airflow_glue import aws_client
    from scones.deployment.release import smoke_test_or_roll_back

    settings = task_settings(params)
    return smoke_test_or_roll_back(
        aws_client("s3", settings),
        aws_client("sagemaker", settings),
        aws_client("sagemaker-runtime", settings),
        settings,
        serving,
        dataset,
    )


@task
def record_deployment(
    training: dict, gate: dict, serving: dict, config: dict, prepared: dict, dataset: dict, params: dict | None = None
) -> dict:
    """Write what now serves to S3, for tomorrow's gate and the monitor."""
    from dataclasses import asdict

    from scones.airflow_glue import aws_client
    from scones.deployment.release import deployment_of_run
    from scones.deployment.release import record_deployment as record

    settings = task_settings(params)
    deployment, keys = record(
        aws_client("s3", settings),
        aws_client("sagemaker", settings),
        settings,
        serving,
        lambda: deployment_of_run(
            training=training,
            gate=gate,
            serving=serving,
            config=config,
            prepared=prepared,
            dataset=dataset,
            settings=settings,
            deployed_at=pendulum.now("UTC"),
        ),
    )
    print(
        f"recorded {keys[-1]}: {deployment.model_name} serving on {deployment.endpoint_name} "
        f"(validation accuracy {deployment.validation_accuracy:.4f}, dataset version {deployment.dataset_version})"
    )
    return asdict(deployment)


@task
def cleanup_old_versions(recorded: dict, params: dict | None = None) -> dict:
    """Delete models and endpoint configs beyond the newest keep_versions, never the serving ones;
    then old and orphaned dataset versions, never the published one or one a kept model trained on."""
    from scones.airflow_glue import aws_client
    from scones.deployment.release import cleanup_old_versions as cleanup

    settings = task_settings(params)
    return cleanup(
        aws_client("sagemaker", settings),
        aws_client("s3", settings),
        settings,
        recorded["endpoint_name"],
        recorded["dataset_version"],
    )


@dag(
    dag_id=DAG_ID,
    description=__doc__.strip().splitlines()[0],
    doc_md=__doc__,
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 2 * * *", timezone="UTC"), assets=DATASET_ASSET),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(DEFAULTS),
    tags=["scones", "training", "sagemaker"],
    params={
        "classes": Param(
            list(DEFAULTS.classes),
            type="array",
            items={"type": "string"},
            minItems=2,
            title="Classes",
            description="Must match the dataset's classes (or turn on refresh_dataset)",
        ),
        "refresh_dataset": Param(
            False,
            type="boolean",
            title="Refresh the dataset first",
            description="Run the ETL with these classes before training",
        ),
        "training_instance_type": Param(
            DEFAULTS.training_instance_type,
            type="string",
            pattern=r"^ml\.",
            examples=GPU_TRAINING_TYPES,
            title="Training instance type",
        ),
        "epochs": Param(DEFAULTS.epochs, type="integer", minimum=1, maximum=500, title="Epochs"),
        "learning_rate": Param(
            DEFAULTS.learning_rate, type="number", exclusiveMinimum=0, maximum=1, title="Learning rate"
        ),
        "mini_batch_size": Param(
            DEFAULTS.mini_batch_size, type="integer", minimum=1, maximum=1024, title="Mini-batch size"
        ),
        "min_validation_accuracy": Param(
            DEFAULTS.min_validation_accuracy, type="number", minimum=0, maximum=1, title="Minimum validation accuracy"
        ),
        "accuracy_tolerance": Param(
            DEFAULTS.accuracy_tolerance, type="number", minimum=0, maximum=1, title="Tolerance vs the serving model"
        ),
        "endpoint_instance_type": Param(
            DEFAULTS.endpoint_instance_type,
            type="string",
            pattern=r"^ml\.",
            examples=HOSTING_TYPES,
            title="Endpoint instance type",
        ),
        "data_capture_sampling_percentage": Param(
            DEFAULTS.data_capture_sampling_percentage,
            type="integer",
            minimum=0,
            maximum=100,
            title="Data capture sampling %",
        ),
        "keep_versions": Param(DEFAULTS.keep_versions, type="integer", minimum=0, title="Old versions to keep"),
    },
)
def scones_train_deploy():
    # SETUP
    dataset = check_dataset()
    prepared = prepare_training(dataset)

    # BODY
    train_model = TrainingJobOperator(
        task_id="train_model",
        config=prepared["config"],
        aws_conn_id=AWS_CONN_ID,
        print_log=True,  # the job's CloudWatch log lands in this task's log
        check_interval=DEFAULTS.poll_seconds,
        # The job's own limit (MaxRuntimeInSeconds) counts training only; this counts from
        # creation, so it leaves half an hour for provisioning and uploading the model.
        max_ingestion_time=TRAINING_WAIT_SECONDS,
        # Deferred, the trigger polls this many times; the provider's default (60) gave up
        # after 30 minutes at 30 s polls while the job ran on, and the retry started a second
        # GPU job beside it.
        max_attempts=TRAINING_WAIT_SECONDS // max(DEFAULTS.poll_seconds, 1) + 1,
        # Names are unique per run already. A retry waits for an earlier try's job that is
        # running or completed; after a failed one it starts another with a timestamp added,
        # which is why downstream tasks read the name from its XCom.
        action_if_job_exists="timestamp",
    )
    gate = evaluate_model(train_model.output)
    config = configure_deployment(train_model.output, prepared)
    deploy_endpoint = EndpointDeployOperator(
        task_id="deploy_endpoint",
        config=config,
        aws_conn_id=AWS_CONN_ID,
        operation="create",  # falls back to update when the endpoint exists (blue/green)
        check_interval=DEFAULTS.poll_seconds,
        max_ingestion_time=3600,
    )
    serving = verify_deployment(deploy_endpoint.output, config)
    smoke = smoke_test_endpoint(serving, dataset)
    recorded = record_deployment(train_model.output, gate, serving, config, prepared, dataset)

    # TEARDOWN
    cleaned = cleanup_old_versions(recorded)

    chain(dataset, prepared, train_model, gate, config, deploy_endpoint, serving, smoke, recorded, cleaned)


scones_train_deploy()
