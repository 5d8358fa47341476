"""Deploy the workflow, one idempotent step at a time: the one orchestration of the deployment.

Each step below is what one task of the ``scones_deploy_workflow`` DAG does, with the same
inputs and the same JSON-able result (its XCom); :func:`deploy_workflow` runs the same steps in
the DAG's order, for the tests and the benchmark. Order: a role per function and the alerts
topic, the packages, the functions, the state machines' role (it names the functions and the
topic), then the state machines with their ARNs rendered in. Each step says what it did
(``created`` / ``updated`` / ``unchanged``); running it again with the same code and settings
changes nothing.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from scones.settings import Settings, WorkflowSettings
from scones.workflow.alerts import ensure_topic
from scones.workflow.components import FUNCTIONS, STATE_MACHINES
from scones.workflow.definition import load_definition, render_definition
from scones.workflow.errors import PackagingError
from scones.workflow.functions import FunctionSpec, ensure_function
from scones.workflow.packaging import FunctionPackage, package_function
from scones.workflow.roles import (
    LAMBDA_TRUST,
    STATE_MACHINE_POLICY,
    STATES_TRUST,
    account_context,
    ensure_role,
    policy_document,
)
from scones.workflow.statemachines import ensure_state_machine, state_machine_arn

log = logging.getLogger(__name__)

DESCRIPTIONS = {
    "serialize_image_data": "Scones workflow 1/3: read an image from S3, return it base64-encoded",
    "classify_image": "Scones workflow 2/3: classify the image on the SageMaker endpoint",
    "filter_inferences": "Scones workflow 3/3: pass on only classifications above the confidence threshold",
}


def serving_classes(s3: Any, settings: Settings) -> list[str]:
    """The classes of the deployed model (its deployment record), else the configured ones."""
    from scones.deployment.record import read_current

    record = read_current(s3, settings.bucket, settings.models_prefix)
    return list(record.classes) if record else list(settings.classes)


def function_environment(
    folder: str, settings: Settings, classes: Sequence[str], lambda_timeout: int
) -> dict[str, str]:
    """Each function's environment: where its settings reach its code."""
    return {
        "serialize_image_data": {},
        # The endpoint call must give up before Lambda's timeout kills the function: 2 s are
        # left for decoding the image and answering, so the workflow sees EndpointError.
        "classify_image": {
            "ENDPOINT_NAME": settings.endpoint_name,
            "CLASS_NAMES": ",".join(classes),
            "ENDPOINT_TIMEOUT_SECONDS": str(max(lambda_timeout - 2, 1)),
        },
        "filter_inferences": {"CONFIDENCE_THRESHOLD": repr(settings.confidence_threshold)},
    }[folder]


def deploy_function_role(iam: Any, folder: str, settings: Settings, context: Mapping[str, str]) -> dict[str, Any]:
    """The function's role, with ``policies/<folder>.json`` as its only permissions."""
    names = settings.names
    values = {
        **context,
        "Bucket": settings.bucket,
        "ImagesPrefix": settings.workflow_images_prefix,
        "EndpointName": names.endpoint.lower(),
        "FunctionName": names.function(folder),
    }
    return ensure_role(
        iam,
        names.function_role(folder),
        policy_document(LAMBDA_TRUST, values),
        policy_document(folder, values),
        f"Lambda {names.function(folder)}",
    )


def deploy_function_roles(iam: Any, settings: Settings, context: Mapping[str, str]) -> dict[str, str]:
    """Step 1: one least-privilege role per function; ``{folder: role ARN}``."""
    roles = {}
    for folder in FUNCTIONS:
        role = deploy_function_role(iam, folder, settings, context)
        log.info("role %s: %s", role["name"], role["action"])
        roles[folder] = role["arn"]
    return roles


def deploy_alerts_topic(sns: Any, settings: Settings) -> str:
    """Step 1, beside the roles: the SNS topic failed classifications go to; its ARN."""
    return ensure_topic(sns, settings.names.workflow_alerts_topic)


def package_functions(settings: Settings) -> list[FunctionPackage]:
    """Step 2: each function's folder as a zip. The DAG passes on each one's ``summary()``: its
    CodeSha256 lets step 3, in another task, check nothing changed since."""
    packages = [package_function(settings.workflow.lambdas_dir, folder) for folder in FUNCTIONS]
    for p in packages:
        log.info("%s: %d bytes, CodeSha256 %s", p.folder, p.size, p.code_sha256)
    return packages


def deploy_function(
    client: Any,
    folder: str,
    settings: Settings,
    role_arn: str,
    classes: Sequence[str],
    expected_sha256: str | None = None,
    package: FunctionPackage | None = None,
) -> dict[str, Any]:
    """Step 3, per function: create or update its function from ``package``, or (in another task
    than step 2's) from ``lambdas/<folder>`` packaged again.

    :param expected_sha256: the CodeSha256 an earlier packaging step saw; a different one means
        the code changed in between, and nothing is deployed.
    :param package: step 2's package, in the same process: used as it is, not zipped again.
    """
    config = settings.workflow
    package = package or package_function(config.lambdas_dir, folder)
    if expected_sha256 and package.code_sha256 != expected_sha256:
        raise PackagingError(
            f"lambdas/{folder} changed since it was packaged ({expected_sha256} -> {package.code_sha256}); rerun"
        )
    spec = FunctionSpec(
        name=settings.names.function(folder),
        role_arn=role_arn,
        package=package,
        environment=function_environment(folder, settings, classes, config.lambda_timeout),
        runtime=config.lambda_runtime,
        timeout=config.lambda_timeout,
        memory=config.lambda_memory,
        description=DESCRIPTIONS[folder],
    )
    return {"folder": folder, **ensure_function(client, spec)}


def deploy_state_machine_role(
    iam: Any, settings: Settings, context: Mapping[str, str], functions: Sequence[Mapping[str, Any]], topic_arn: str
) -> str:
    """Step 4: the state machines' role: invoke these functions, publish to this topic, nothing else; its ARN."""
    values = {**context, **definition_values(_arns(functions), topic_arn, settings.workflow)}
    role = ensure_role(
        iam,
        settings.names.state_machine_role,
        policy_document(STATES_TRUST, values),
        policy_document(STATE_MACHINE_POLICY, values),
        "Step Functions: the Scones classification workflow",
    )
    log.info("role %s: %s", role["name"], role["action"])
    return role["arn"]


def definition_values(function_arns: Mapping[str, str], topic_arn: str, config: WorkflowSettings) -> dict[str, Any]:
    """What the ``${placeholders}`` of the definitions and the state machine policy stand for."""
    values: dict[str, Any] = {placeholder: function_arns[folder] for folder, placeholder in FUNCTIONS.items()}
    return {
        **values,
        "AlertsTopicArn": topic_arn,
        "MaxConcurrency": config.max_concurrency,
        "MaxBatchSize": config.max_batch_size,
    }


def deploy_state_machines(
    sfn: Any,
    settings: Settings,
    context: Mapping[str, str],
    functions: Sequence[Mapping[str, Any]],
    topic_arn: str,
    role_arn: str,
) -> dict[str, dict[str, Any]]:
    """Step 5: render each definition with the real ARNs (all placeholders filled, graph checked),
    then create or update; ``{stem: {"name", "arn", "action"}}``."""
    values = {
        **context,
        **definition_values(_arns(functions), topic_arn, settings.workflow),
    }  # Partition: aws, aws-cn...
    deployed = {}
    for stem in STATE_MACHINES:
        definition = render_definition(
            load_definition(settings.workflow.statemachine_dir, stem), values, f"statemachine/{stem}.asl.json"
        )
        arn = state_machine_arn(dict(context), settings.names.state_machine(stem))
        deployed[stem] = ensure_state_machine(sfn, arn, definition, role_arn)
    return deployed


def _arns(functions: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    return {f["folder"]: f["arn"] for f in functions}


def deploy_workflow(
    client: Callable[[str], Any], settings: Settings, config: WorkflowSettings | None = None
) -> dict[str, Any]:
    """The DAG's steps, in its order, in this process, with clients from ``client(service)``.

    :param config: the workflow section to use instead of ``settings.workflow``.
    """
    if config is not None:
        settings = dataclasses.replace(settings, workflow=config)
    context = account_context(client("sts"), settings.region)
    roles = deploy_function_roles(client("iam"), settings, context)
    topic_arn = deploy_alerts_topic(client("sns"), settings)
    packages = package_functions(settings)
    classes = serving_classes(client("s3"), settings)
    functions = [
        deploy_function(client("lambda"), p.folder, settings, roles[p.folder], classes, package=p) for p in packages
    ]
    role_arn = deploy_state_machine_role(client("iam"), settings, context, functions, topic_arn)
    machines = deploy_state_machines(client("stepfunctions"), settings, context, functions, topic_arn, role_arn)
    for what in (*functions, *machines.values()):
        log.info("%s: %s", what["name"], what["action"])
    return {"functions": {f["folder"]: f for f in functions}, "alerts_topic_arn": topic_arn, "state_machines": machines}
