"""
Deploy the classification workflow (three Lambda functions and two Step Functions state machines), then prove it with smoke executions.

### What it does
1. **create_function_roles** / **create_alerts_topic**: one IAM role per function, each with
   only the permissions in `include/scones/workflow/policies/<function>.json`; the SNS topic
   `scones-workflow-alerts` that failed classifications are published to.
2. **package_functions**: each `lambdas/<function>/` as a deterministic zip (same code, same
   bytes, same CodeSha256).
3. **deploy_function** (one per function): created, or updated only where the code
   (CodeSha256) or configuration differs; unchanged functions are left alone.
4. **create_state_machine_role** / **deploy_state_machines**: `statemachine/*.asl.json`
   rendered with the real ARNs (a placeholder left is an error) and checked, then created or
   updated: `scones-image-classification` (one image) and `scones-batch-classification` (a Map
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
from airflow.sdk.definitions.retry_policy import ExceptionRetryPolicy, RetryAction, RetryRule

from scones.airflow_glue import AWS_CONN_ID, DEFAULT_ARGS, NO_RETRY_ON_BAD_INPUT, task_settings
from scones.settings import load_settings

DAG_ID = Path(__file__).stem
DEFAULTS = load_settings()  # environment and defaults only: no Variables at parse time
SMOKE_TIMEOUT_SECONDS = 900

#: Retrying cannot fix a bad definition, a package that changed under us, or a wrong outcome.
RETRY_POLICY = ExceptionRetryPolicy(
    rules=[
        *NO_RETRY_ON_BAD_INPUT.rules,
        RetryRule(
            exception=[f"scones.workflow.errors.{name}" for name in ("DefinitionError", "PackagingError", "SmokeTestFailed")],
            action=RetryAction.FAIL, reason="fix the code or the model, then rerun",
        ),
    ]
)  # fmt: skip


def _workflow(params: dict | None):
    """Settings, workflow config and resource names for a running task."""
    from scones.workflow.config import WorkflowNames, load_workflow_config

    settings = task_settings(params)
    config = load_workflow_config({"max_concurrency": (params or {}).get("max_concurrency")})
    return settings, WorkflowNames(settings, config)


def _context(settings) -> dict:
    from scones.airflow_glue import aws_client
    from scones.workflow.roles import account_context

    return account_context(aws_client("sts", settings), settings.region)


@task
def create_function_roles(params: dict | None = None) -> dict[str, str]:
    """One least-privilege role per function; returns `{function: role ARN}`."""
    from scones.airflow_glue import aws_client
    from scones.workflow.config import FUNCTIONS
    from scones.workflow.deploy import deploy_function_role

    settings, names = _workflow(params)
    iam, context = aws_client("iam", settings), _context(settings)
    roles = {}
    for folder in FUNCTIONS:
        role = deploy_function_role(iam, folder, names, context)
        print(f"role {role['name']}: {role['action']}")
        roles[folder] = role["arn"]
    return roles


@task
def create_alerts_topic(params: dict | None = None) -> str:
    """The SNS topic failed classifications go to."""
    from scones.airflow_glue import aws_client
    from scones.workflow.alerts import ensure_topic

    settings, names = _workflow(params)
    return ensure_topic(aws_client("sns", settings), names.alerts_topic)


@task
def package_functions(params: dict | None = None) -> list[dict]:
    """Zip each function's folder; the CodeSha256 lets deploy_function check nothing changed since."""
    from scones.workflow.config import FUNCTIONS
    from scones.workflow.packaging import package_function

    _, names = _workflow(params)
    packages = [package_function(names.config.lambdas_dir, folder) for folder in FUNCTIONS]
    for p in packages:
        print(f"{p.folder}: {p.size} bytes, CodeSha256 {p.code_sha256}")
    return [{"folder": p.folder, "code_sha256": p.code_sha256} for p in packages]


@task(map_index_template="{{ function_folder }}")
def deploy_function(package: dict, roles: dict[str, str], params: dict | None = None) -> dict:
    """Create or update one function; a no-op when its code and configuration are unchanged."""
    from airflow.sdk import get_current_context

    from scones.airflow_glue import aws_client
    from scones.workflow.deploy import deploy_function as deploy, serving_classes

    settings, names = _workflow(params)
    folder = package["folder"]
    get_current_context()["function_folder"] = folder  # names the mapped instance in the UI
    result = deploy(aws_client("lambda", settings), folder, names, roles[folder],
                    serving_classes(aws_client("s3", settings), settings), expected_sha256=package["code_sha256"])  # fmt: skip
    print(f"function {result['name']}: {result['action']} {result['changed'] or ''}".rstrip())
    return result


@task
def create_state_machine_role(functions: list[dict], topic_arn: str, params: dict | None = None) -> str:
    """The state machines' role: invoke these three functions, publish to this topic, nothing else."""
    from scones.airflow_glue import aws_client
    from scones.workflow.deploy import deploy_state_machine_role

    settings, names = _workflow(params)
    function_arns = {f["folder"]: f["arn"] for f in functions}
    role = deploy_state_machine_role(aws_client("iam", settings), names, _context(settings), function_arns, topic_arn)
    print(f"role {role['name']}: {role['action']}")
    return role["arn"]


@task
def deploy_state_machines(functions: list[dict], topic_arn: str, role_arn: str, params: dict | None = None) -> dict:
    """Render the definitions with the real ARNs, check them, create or update the state machines."""
    from scones.airflow_glue import aws_client
    from scones.workflow.deploy import deploy_state_machines as deploy

    settings, names = _workflow(params)
    function_arns = {f["folder"]: f["arn"] for f in functions}
    machines = deploy(aws_client("stepfunctions", settings), names, _context(settings), function_arns, topic_arn, role_arn)
    for machine in machines.values():
        print(f"state machine {machine['name']}: {machine['action']}")
    return {stem: machine["arn"] for stem, machine in machines.items()}


@task
def plan_smoke_executions(machines: dict, run_id: str | None = None, params: dict | None = None) -> list[dict]:
    """Check the endpoint serves, score validation images on it, and choose the smoke cases."""
    import hashlib
    import uuid

    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    from scones.airflow_glue import aws_client
    from scones.workflow.deploy import serving_classes
    from scones.workflow.errors import EndpointNotReady
    from scones.workflow.smoke import (
        check_endpoint,
        plan_smoke_cases,
        probe,
        probe_until_planned,
        validation_keys,
        validation_prefix,
    )

    params = params or {}
    if not params.get("smoke_tests", True):
        raise AirflowSkipException("smoke_tests is off: the workflow is deployed but not exercised")
    settings, _ = _workflow(params)
    try:
        check_endpoint(aws_client("sagemaker", settings), settings.endpoint_name)
    except EndpointNotReady as exc:
        if not getattr(exc, "transient", False):
            raise AirflowFailException(str(exc)) from exc  # retrying cannot create an endpoint
        raise
    s3, runtime = aws_client("s3", settings), aws_client("sagemaker-runtime", settings)
    classes = serving_classes(s3, settings)
    images = validation_prefix(s3, settings)  # resolved once: the whole plan uses one dataset version
    keys = validation_keys(s3, settings.bucket, images, classes)
    probes = probe_until_planned(
        (probe(s3, runtime, settings.bucket, key, settings.endpoint_name, len(classes)) for key in keys),
        settings.confidence_threshold, params.get("smoke_batch_size", 10), params.get("smoke_candidates", 40),
    )  # fmt: skip
    for p in probes:
        print(f"{p.key}: {classes[p.predicted_label]} {p.confidence:.4f}")
    missing = f"{images}_smoke/{uuid.uuid4().hex}.png"
    cases = plan_smoke_cases(probes, settings.bucket, settings.confidence_threshold, params.get("smoke_batch_size", 10), missing)
    run = hashlib.sha1((run_id or "manual").encode()).hexdigest()[:8]
    for case in cases:  # names say where an alert came from: "smoke-low_confidence-..."
        case["state_machine_arn"] = machines["classify_batch" if case["state_machine"] == "batch" else "classify_image"]
        case["name"] = f"smoke-{case['kind']}-{run}-{uuid.uuid4().hex[:8]}"
    return cases


def start_kwargs(case: dict) -> dict:
    """The start operator's arguments for one smoke case (the expectation stays behind)."""
    return {"state_machine_arn": case["state_machine_arn"], "name": case["name"], "state_machine_input": case["input"]}


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
    from scones.workflow.smoke import check_smoke_outcomes as check

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
    default_args={**DEFAULT_ARGS, "retry_policy": RETRY_POLICY},
    tags=["scones", "serving", "lambda", "step-functions"],
    params={
        "confidence_threshold": Param(DEFAULTS.confidence_threshold, type="number", minimum=0, maximum=1,
                                      title="Confidence threshold", description="Below it, an image fails with ThresholdConfidenceNotMet"),
        "max_concurrency": Param(10, type="integer", minimum=1, maximum=40, title="Batch concurrency",
                                 description="Images a batch execution classifies at once (the Map state's MaxConcurrency)"),
        "smoke_tests": Param(True, type="boolean", title="Run the smoke executions",
                             description="Needs the endpoint (scones_train_deploy); off: deploy only"),
        "smoke_batch_size": Param(10, type="integer", minimum=1, maximum=100, title="Smoke batch size"),
        "smoke_candidates": Param(40, type="integer", minimum=2, maximum=500, title="Images to score",
                                  description="At most this many validation images are scored to choose the smoke cases"),
    },  # fmt: skip
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
        task_id="start_smoke_executions", aws_conn_id=AWS_CONN_ID,
        # Start only, whatever default_deferrable says (docker-compose turns it on): deferred,
        # the provider fails the task on a FAILED execution, and the threshold case must fail.
        deferrable=False,
    ).expand_kwargs(cases.map(start_kwargs))
    outcomes = await_smoke_executions(start_smoke_executions.output)
    checked = check_smoke_outcomes(cases, outcomes)

    chain([roles, topic_arn], packages, functions, machine_role, machines, cases, start_smoke_executions, outcomes, checked)


scones_deploy_workflow()
