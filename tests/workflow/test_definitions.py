"""The state machine definitions in statemachine/: shape, graph, placeholders, and the batch's steps."""

from __future__ import annotations

import copy
import json

import pytest

from scones.settings import PROJECT_ROOT, WorkflowSettings
from scones.workflow.components import FUNCTIONS, STATE_MACHINES
from scones.workflow.definition import check_definition, definition_problems, load_definition, render_definition
from scones.workflow.deploy import definition_values
from scones.workflow.errors import DefinitionError
from scones.workflow.templates import placeholders

STATEMACHINE_DIR = PROJECT_ROOT / "statemachine"
ARNS = {folder: f"arn:aws:lambda:us-east-1:123456789012:function:scones-{folder}" for folder in FUNCTIONS}
TOPIC = "arn:aws:sns:us-east-1:123456789012:scones-workflow-alerts"
CONTEXT = {"AccountId": "123456789012", "Partition": "aws", "Region": "us-east-1"}  # what deployment adds
VALUES = {**CONTEXT, **definition_values(ARNS, TOPIC, WorkflowSettings(max_concurrency=7))}
LAMBDA_SERVICE_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}


def states_of(definition: dict) -> dict:
    """The per-image states: the definition's own, or its Map's item processor's."""
    if "ClassifyImages" in definition["States"]:
        return definition["States"]["ClassifyImages"]["ItemProcessor"]["States"]
    return definition["States"]


def test_every_definition_file_is_deployed():
    assert {p.name.removesuffix(".asl.json") for p in STATEMACHINE_DIR.glob("*.asl.json")} == set(STATE_MACHINES)


@pytest.mark.parametrize("name", STATE_MACHINES)
def test_definition_has_a_comment_and_a_sound_graph(name):
    definition = load_definition(STATEMACHINE_DIR, name)
    assert len(definition["Comment"]) > 40
    check_definition(definition, name)  # raises on an unreachable state or a dangling Next


@pytest.mark.parametrize("name", STATE_MACHINES)
def test_placeholders_are_only_the_arns_deployment_knows(name):
    definition = load_definition(STATEMACHINE_DIR, name)
    assert placeholders(definition) <= set(VALUES)
    assert {"SerializeImageDataArn", "ClassifyImageArn", "FilterInferencesArn", "AlertsTopicArn"} <= placeholders(
        definition
    )


@pytest.mark.parametrize("name", STATE_MACHINES)
def test_rendering_fills_every_placeholder(name):
    text = render_definition(load_definition(STATEMACHINE_DIR, name), VALUES, name)
    assert "${" not in text
    rendered = json.loads(text)
    tasks = {s["Parameters"].get("FunctionName") for s in states_of(rendered).values() if s["Type"] == "Task"}
    assert set(ARNS.values()) <= tasks
    assert states_of(rendered)["NotifyFailure"]["Parameters"]["TopicArn"] == TOPIC


def test_service_integrations_are_in_the_accounts_partition():
    """aws-cn and GovCloud name their integrations arn:aws-cn:states:::..., as their ARNs."""
    rendered = render_definition(load_definition(STATEMACHINE_DIR, "classify_image"), {**VALUES, "Partition": "aws-cn"})
    resources = {s["Resource"] for s in states_of(json.loads(rendered)).values() if s["Type"] == "Task"}
    assert resources == {"arn:aws-cn:states:::lambda:invoke", "arn:aws-cn:states:::sns:publish"}


def test_max_concurrency_renders_as_a_number():
    rendered = json.loads(render_definition(load_definition(STATEMACHINE_DIR, "classify_batch"), VALUES))
    assert rendered["States"]["ClassifyImages"]["MaxConcurrency"] == 7


def test_rendering_fails_on_a_missing_value():
    definition = load_definition(STATEMACHINE_DIR, "classify_image")
    with pytest.raises(DefinitionError, match="placeholders with no value: AlertsTopicArn"):
        render_definition(definition, {k: v for k, v in VALUES.items() if k != "AlertsTopicArn"}, "classify_image")


@pytest.mark.parametrize("name", STATE_MACHINES)
def test_every_lambda_step_retries_service_errors_and_catches_everything(name):
    for state_name, state in states_of(load_definition(STATEMACHINE_DIR, name)).items():
        if state["Type"] != "Task" or state["Resource"] != "arn:aws:states:::lambda:invoke":
            continue
        retried = {e for r in state["Retry"] for e in r["ErrorEquals"]}
        assert retried == LAMBDA_SERVICE_ERRORS, state_name
        assert all(r["BackoffRate"] > 1 for r in state["Retry"]), f"{state_name}: retry with backoff"
        assert [c["ErrorEquals"] for c in state["Catch"]] == [["States.ALL"]], state_name
        assert state["Catch"][0]["Next"] == "DescribeFailure"


def test_the_batch_runs_the_same_steps_as_the_single_image_workflow():
    single = states_of(load_definition(STATEMACHINE_DIR, "classify_image"))
    batch = states_of(load_definition(STATEMACHINE_DIR, "classify_batch"))
    # Only the ending differs: one image fails its execution; in a batch it is one failed result.
    assert single["ClassificationFailed"]["Type"] == "Fail"
    assert batch["RecordFailure"]["Type"] == "Pass" and batch["RecordFailure"]["End"]
    same = set(single) - {"ClassificationFailed", "NotifyFailure"}
    assert same == set(batch) - {"RecordFailure", "NotifyFailure"}
    for name in same:
        assert batch[name] == single[name], f"{name} differs between classify_image and classify_batch"
    notify_single, notify_batch = copy.deepcopy(single["NotifyFailure"]), copy.deepcopy(batch["NotifyFailure"])
    for notify in (notify_single, notify_batch):
        notify.pop("Next"), notify["Catch"][0].pop("Next")
    assert notify_single == notify_batch


def test_the_graph_checker_finds_what_is_wrong():
    broken = {
        "StartAt": "A",
        "States": {
            "A": {
                "Type": "Task",
                "Resource": "x",
                "Next": "B",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Nowhere"}],
            },
            "B": {"Type": "Pass"},
            "Orphan": {"Type": "Succeed"},
            "M": {
                "Type": "Map",
                "ItemProcessor": {"StartAt": "X", "States": {"Y": {"Type": "Pass", "End": True}}},
                "End": True,
            },
        },
    }
    problems = "\n".join(definition_problems(broken))
    assert "A.Catch[0].Next -> 'Nowhere'" in problems
    assert "B: neither Next nor End" in problems
    assert "Orphan: unreachable" in problems
    assert "M.ItemProcessor.StartAt 'X' is not a state" in problems
    with pytest.raises(DefinitionError, match="no top-level Comment"):
        check_definition(broken)


@pytest.mark.parametrize("name", STATE_MACHINES)
def test_moto_parses_the_rendered_definition(name, moto_aws):
    # moto's interpreter (LocalStack's ASL parser) refuses a definition it cannot run.
    iam = moto_aws("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    text = render_definition(load_definition(STATEMACHINE_DIR, name), VALUES, name)
    moto_aws("stepfunctions").create_state_machine(name=name, definition=text, roleArn=role)
