"""Deploy the workflow, one idempotent step at a time (the DAG's tasks call these).

Order: a role per function, the functions, the alerts topic, the state machines' role (it
names the functions and the topic), then the state machines with their ARNs rendered in.
Each step returns what it did (``created`` / ``updated`` / ``unchanged``); running it again
with the same code and settings changes nothing. :func:`deploy_workflow` runs them all, for
the CLI, the benchmark and tests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from scones.settings import Settings
from scones.workflow.alerts import ensure_topic
from scones.workflow.config import FUNCTIONS, STATE_MACHINES, WorkflowConfig, WorkflowNames
from scones.workflow.definition import load_definition, render_definition
from scones.workflow.errors import PackagingError
from scones.workflow.functions import FunctionSpec, ensure_function
from scones.workflow.packaging import package_function
from scones.workflow.roles import LAMBDA_TRUST, STATE_MACHINE_POLICY, STATES_TRUST, account_context, ensure_role, policy_document
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


def function_environment(folder: str, settings: Settings, classes: Sequence[str], lambda_timeout: int) -> dict[str, str]:
    """Each function's environment: where its settings reach its code."""
    return {
        "serialize_image_data": {},
        # The endpoint call must give up before Lambda's timeout kills the function: 2 s are
        # left for decoding the image and answering, so the workflow sees EndpointError.
        "classify_image": {"ENDPOINT_NAME": settings.endpoint_name, "CLASS_NAMES": ",".join(classes),
                           "ENDPOINT_TIMEOUT_SECONDS": str(max(lambda_timeout - 2, 1))},  # fmt: skip
        "filter_inferences": {"CONFIDENCE_THRESHOLD": repr(settings.confidence_threshold)},
    }[folder]


def deploy_function_role(iam: Any, folder: str, names: WorkflowNames, context: Mapping[str, str]) -> dict[str, Any]:
    """The function's role, with ``policies/<folder>.json`` as its only permissions."""
    settings = names.settings
    values = {**context, "Bucket": settings.bucket, "ImagesPrefix": names.images_prefix,
              "EndpointName": settings.endpoint_name.lower(), "FunctionName": names.function(folder)}  # fmt: skip
    return ensure_role(iam, names.function_role(folder), policy_document(LAMBDA_TRUST, values),
                       policy_document(folder, values), f"Lambda {names.function(folder)}")  # fmt: skip


def deploy_function(
    client: Any, folder: str, names: WorkflowNames, role_arn: str, classes: Sequence[str], expected_sha256: str | None = None
) -> dict[str, Any]:
    """Package ``lambdas/<folder>`` and create or update its function.

    :param expected_sha256: the CodeSha256 an earlier packaging step saw; a different one means
        the code changed in between, and nothing is deployed.
    """
    config = names.config
    package = package_function(config.lambdas_dir, folder)
    if expected_sha256 and package.code_sha256 != expected_sha256:
        raise PackagingError(f"lambdas/{folder} changed since it was packaged ({expected_sha256} -> {package.code_sha256}); rerun")
    spec = FunctionSpec(
        name=names.function(folder), role_arn=role_arn, package=package,
        environment=function_environment(folder, names.settings, classes, config.lambda_timeout),
        runtime=config.lambda_runtime, timeout=config.lambda_timeout, memory=config.lambda_memory,
        description=DESCRIPTIONS[folder],
    )  # fmt: skip
    return {"folder": folder, **ensure_function(client, spec)}


def deploy_state_machine_role(
    iam: Any, names: WorkflowNames, context: Mapping[str, str], function_arns: Mapping[str, str], topic_arn: str
) -> dict[str, Any]:
    values = {**context, **definition_values(function_arns, topic_arn, names.config)}
    return ensure_role(iam, names.state_machine_role, policy_document(STATES_TRUST, values),
                       policy_document(STATE_MACHINE_POLICY, values), "Step Functions: the Scones classification workflow")  # fmt: skip


def definition_values(function_arns: Mapping[str, str], topic_arn: str, config: WorkflowConfig) -> dict[str, Any]:
    """What the ``${placeholders}`` of the definitions and the state machine policy stand for."""
    values: dict[str, Any] = {placeholder: function_arns[folder] for folder, placeholder in FUNCTIONS.items()}
    return {**values, "AlertsTopicArn": topic_arn, "MaxConcurrency": config.max_concurrency, "MaxBatchSize": config.max_batch_size}


def deploy_state_machines(
    sfn: Any, names: WorkflowNames, context: Mapping[str, str], function_arns: Mapping[str, str], topic_arn: str, role_arn: str
) -> dict[str, dict[str, Any]]:
    """Render each definition with the real ARNs (all placeholders filled, graph checked), then create or update."""
    values = {**context, **definition_values(function_arns, topic_arn, names.config)}  # Partition: aws, aws-cn...
    deployed = {}
    for stem in STATE_MACHINES:
        definition = render_definition(load_definition(names.config.statemachine_dir, stem), values, f"statemachine/{stem}.asl.json")
        arn = state_machine_arn(dict(context), names.state_machine(stem))
        deployed[stem] = ensure_state_machine(sfn, arn, definition, role_arn)
    return deployed


def deploy_workflow(client: Callable[[str], Any], settings: Settings, config: WorkflowConfig | None = None) -> dict[str, Any]:
    """Every step in order, with clients from ``client(service)``; returns each step's result."""
    names = WorkflowNames(settings, config or WorkflowConfig())
    context = account_context(client("sts"), settings.region)
    iam, lambda_client = client("iam"), client("lambda")
    classes = serving_classes(client("s3"), settings)
    functions = {}
    for folder in FUNCTIONS:
        role = deploy_function_role(iam, folder, names, context)
        functions[folder] = deploy_function(lambda_client, folder, names, role["arn"], classes)
    function_arns = {folder: f["arn"] for folder, f in functions.items()}
    topic_arn = ensure_topic(client("sns"), names.alerts_topic)
    role = deploy_state_machine_role(iam, names, context, function_arns, topic_arn)
    machines = deploy_state_machines(client("stepfunctions"), names, context, function_arns, topic_arn, role["arn"])
    for what in (*functions.values(), *machines.values()):
        log.info("%s: %s", what["name"], what["action"])
    return {"functions": functions, "alerts_topic_arn": topic_arn, "state_machines": machines}
