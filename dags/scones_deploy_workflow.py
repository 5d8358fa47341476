"""
Deploy the classification workflow (three Lambda functions and two Step Functions state machines), then prove it with smoke executions.

### What it does
1. **create_function_roles** / **create_alerts_topic**: one IAM role per function, each with
   only the permissions in `include/scones/workflow/policies/<function>.json`; the SNS topic
   `<project>-workflow-alerts` (`scones-workflow-alerts` by default) that failed classifications are
   published to.
2. **package_functions**: each `lambdas/<function>/` as a deterministic zip (same code, same
   bytes, same CodeSha256).
3. **deploy_function** (one per function): created, or updated only where the code
   (CodeSha256) or configuration differs; unchanged functions are left alone.
4. **create_state_machine_role** / **deploy_state_machines**: `statemachine/*.asl.json`
   rendered with the real ARNs (a placeholder left is an error) and checked, then created or
   updated: `<project>-image-classification` (one image) and `<project>-batch-classification` (a Map
   fan-out over `{"images": [...]}`, `max_concurrency` at a time).
5. **plan_smoke_executions**: the endpoint must serve (a missing endpoint fails here, at once,
   saying to run `scones_train_deploy`); validation images are scored on it to choose one that
   must succeed, one that must fail with `ThresholdConfidenceNotMet`, and a batch (plus a
   missing image that must fail alone).
6. **start_smoke_executions** → **await_smoke_executions** → **check_smoke_outcomes**: the run
   fails if any execution ends differently from its expectation.

Running it again with the same code and settings changes nothing (each task logs
created / updated / unchanged). Send traffic afterwards with `scones traffic --count 200 --batch`.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.providers.amazon.aws.operators.step_function import StepFunctionStartExecutionOperator
from airflow.sdk import Param, chain, dag, task

from scones.airflow_glue import AWS_CONN_ID, default_args, task_settings
from scones.settings import MAX_BATCH_SIZE, MAX_CONCURRENCY, SMOKE_CANDIDATES_RANGE, load_settings
from scones.workflow.smoke_executions import start_kwargs

DAG_ID = Path(__file__).stem
DEFAULTS = load_settings()  # environment and defaults only: no Variables at parse time
SMOKE_TIMEOUT_SECONDS = 900

# Each task is one step of scones.workflow.deploy (deploy_workflow runs the same steps in this order).


def _context(settings) -> dict:
    from scones.airflow_glue import aws_client
    from scones.workflow.roles import account_context

    return account_context(aws_client("sts", settings), settings.region)


@task
def create_function_roles(params: dict | None = None) -> dict[str, str]:
    """One least-privilege role per function; returns `{function: role ARN}`."""
    from scones.airflow_glue import aws_client
    from scones.workflow.deploy import deploy_function_roles

    settings = task_settings(params)
    return deploy_function_roles(aws_client("iam", settings), settings, _context(settings))


@task
def create_alerts_topic(params: dict | None = None) -> str:
    """The SNS topic failed classifications go to."""
    from scones.airflow_glue import aws_client
    from scones.workflow.deploy import deploy_alerts_topic

    settings = task_settings(params)
    return deploy_alerts_topic(aws_client("sns", settings), settings)


@task
def package_functions(params: dict | None = None) -> list[dict]:
    """Zip each function's folder; the CodeSha256 lets deploy_function check nothing changed since."""
    from scones.workflow.deploy import package_functions as package

    return [p.summary() for p in package(task_settings(params))]


@task(map_index_template="{{ function_folder }}")
def deploy_function(package: dict, roles: dict[str, str], params: dict | None = None) -> dict:
    """Create or update one function; a no-op when its code and configuration are unchanged."""
    from airflow.sdk import get_current_context

    from scones.airflow_glue import aws_client
    from scones.workflow.deploy import deploy_function as deploy
    from scones.workflow.deploy import serving_classes

    settings = task_settings(params)
    folder = package["folder"]
    get_current_context()["function_folder"] = folder  # names the mapped instance in the UI
    result = deploy(
        aws_client("lambda", settings),
        folder,
        settings,
        roles[folder],
        serving_classes(aws_client("s3", settings), settings),
        expected_sha256=package["code_sha256"],
    )
    print(f"function {result['name']}: {result['action']} {result['changed'] or ''}".rstrip())
    return result


@task
def create_state_machine_role(functions: list[dict], topic_arn: str, params: dict | None = None) -> str:
    """The state machines' role: invoke these three functions, publish to this topic, nothing else."""
    from scones.airflow_glue import aws_client
    from scones.workflow.deploy import deploy_state_machine_role

    settings = task_settings(params)
    return deploy_state_machine_role(aws_client("iam", settings), settings, _context(settings), functions, topic_arn)


@task
def deploy_state_machines(functions: list[dict], topic_arn: str, role_arn: str, params: dict | None = None) -> dict:
    """Render the definitions with the real ARNs, check them, create or update the state machines."""
    from scones.airflow_glue import aws_client
    from scones.workflow.deploy import deploy_state_machines as deploy

    settings = task_settings(params)
    machines = deploy(
        aws_client("stepfunctions", settings), settings, _context(settings), functions, topic_arn, role_arn
    )
    for machine in machines.values():
        print(f"state machine {machine['name']}: {machine['action']}")
    return {stem: machine["arn"] for stem, machine in machines.items()}


@task
def plan_smoke_executions(machines: dict, run_id: str | None = None, params: dict | None = None) -> list[dict]:
    """Check the endpoint serves, score validation images on it, and choose the smoke cases."""
    from airflow.sdk.exceptions import AirflowSkipException

    from scones.airflow_glue import aws_client
    from scones.workflow.smoke_executions import plan_smoke_executions as plan

    settings = task_settings(params)
    if not settings.workflow.smoke_tests:
        raise AirflowSkipException("smoke_tests is off: the workflow is deployed but not exercised")
    return plan(
        aws_client("s3", settings),
        aws_client("sagemaker-runtime", settings),
        aws_client("sagemaker", settings),
        settings,
        machines,
        run_id,
    )


# The provider's StepFunctionExecutionSensor raises on a FAILED execution; one of ours must fail.
@task.sensor(poke_interval=DEFAULTS.poll_seconds, timeout=SMOKE_TIMEOUT_SECONDS, mode="poke")
def await_smoke_executions(execution_arns: list[str], params: dict | None = None):
    """Wait until every smoke execution has ended; returns their outcomes from DescribeExecution."""
    from airflow.sdk import PokeReturnValue

    from scones.airflow_glue import aws_client
    from scones.workflow.executions import describe

    sfn = aws_client("stepfunctions", task_settings(params))
    outcomes = [describe(sfn, arn) for arn in execution_arns]
    for o in outcomes:
        print(f"{o.arn.rsplit(':', 1)[1]}: {o.status} {o.error or ''}".rstrip())
    return PokeReturnValue(is_done=all(o.done for o in outcomes), xcom_value=[o.to_dict() for o in outcomes])


@task
def check_smoke_outcomes(cases: list[dict], outcomes: list[dict]) -> dict:
    """Fail the run if any execution ended differently from its expectation."""
    from scones.workflow.executions import Outcome
    from scones.workflow.smoke_executions import check_smoke_outcomes as check

    summary = check(cases, [Outcome(**o) for o in outcomes])
    for kind, outcome in summary.items():
        print(f"{kind}: {outcome['status']} {outcome['error'] or ''} as expected".replace("  ", " "))
    return summary


@dag(
    dag_id=DAG_ID,
    description=__doc__.strip().splitlines()[0],
    doc_md=__doc__,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(DEFAULTS),
    tags=["scones", "serving", "lambda", "step-functions"],
    params={
        "confidence_threshold": Param(
            DEFAULTS.confidence_threshold,
            type="number",
            minimum=0,
            maximum=1,
            title="Confidence threshold",
            description="Below it, an image fails with ThresholdConfidenceNotMet",
        ),
        "max_concurrency": Param(
            DEFAULTS.workflow.max_concurrency,
            type="integer",
            minimum=1,
            maximum=MAX_CONCURRENCY,
            title="Batch concurrency",
            description="Images a batch execution classifies at once (the Map state's MaxConcurrency)",
        ),
        "smoke_tests": Param(
            DEFAULTS.workflow.smoke_tests,
            type="boolean",
            title="Run the smoke executions",
            description="Needs the endpoint (scones_train_deploy); off: deploy only",
        ),
        "smoke_batch_size": Param(
            DEFAULTS.workflow.smoke_batch_size,
            type="integer",
            minimum=1,
            maximum=MAX_BATCH_SIZE,
            title="Smoke batch size",
        ),
        "smoke_candidates": Param(
            DEFAULTS.workflow.smoke_candidates,
            type="integer",
            minimum=SMOKE_CANDIDATES_RANGE[0],
            maximum=SMOKE_CANDIDATES_RANGE[1],
            title="Images to score",
            description="At most this many validation images are scored to choose the smoke cases",
        ),
    },
)
def scones_deploy_workflow():
    # SETUP
    roles = create_function_roles()
    topic_arn = create_alerts_topic()

    # BODY
    packages = package_functions()
    functions = deploy_function.partial(roles=roles).expand(package=packages)
    machine_role = create_state_machine_role(functions, topic_arn)
    machines = deploy_state_machines(functions, topic_arn, machine_role)
    cases = plan_smoke_executions(machines)
    start_smoke_executions = StepFunctionStartExecutionOperator.partial(
        task_id="start_smoke_executions",
        aws_conn_id=AWS_CONN_ID,
        # Start only, whatever default_deferrable says (docker-compose turns it on): deferred,
        # the provider fails the task on a FAILED execution, and the threshold case must fail.
        deferrable=False,
    ).expand_kwargs(cases.map(start_kwargs))
    outcomes = await_smoke_executions(start_smoke_executions.output)
    checked = check_smoke_outcomes(cases, outcomes)

    chain(
        [roles, topic_arn],
        packages,
        functions,
        machine_role,
        machines,
        cases,
        start_smoke_executions,
        outcomes,
        checked,
    )


scones_deploy_workflow()
