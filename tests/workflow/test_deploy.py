"""Deployment against moto: everything created once, nothing changed on a rerun, only what changed updated."""

from __future__ import annotations

import dataclasses
import json

import pytest

from scones.workflow.components import FUNCTIONS
from scones.workflow.deploy import deploy_workflow

from .conftest import TEST_CONFIG, TEST_SETTINGS


def actions(deployed: dict) -> dict[str, str]:
    return {
        what["name"]: what["action"] for what in (*deployed["functions"].values(), *deployed["state_machines"].values())
    }


@pytest.fixture
def deployed(moto_aws):
    moto_aws("s3").create_bucket(Bucket=TEST_SETTINGS.bucket)
    return deploy_workflow(moto_aws, TEST_SETTINGS, TEST_CONFIG)


def test_first_deployment_creates_every_resource(deployed, moto_aws):
    assert set(actions(deployed).values()) == {"created"}
    names = TEST_SETTINGS.names
    assert set(actions(deployed)) == {names.function(f) for f in FUNCTIONS} | {
        "scones-image-classification",
        "scones-batch-classification",
    }
    classify = moto_aws("lambda").get_function(FunctionName="scones-classify-image")["Configuration"]
    assert classify["Handler"] == "handler.lambda_handler" and classify["Runtime"] == "python3.11"
    assert classify["Environment"]["Variables"] == {
        "ENDPOINT_NAME": "scones-endpoint",
        "CLASS_NAMES": "bicycle,motorcycle",
        "ENDPOINT_TIMEOUT_SECONDS": "28",
    }  # the 30 s timeout less 2
    threshold = moto_aws("lambda").get_function(FunctionName="scones-filter-inferences")["Configuration"]["Environment"]
    assert threshold["Variables"] == {"CONFIDENCE_THRESHOLD": "0.93"}
    assert deployed["alerts_topic_arn"].endswith(":scones-workflow-alerts")


def test_a_second_deployment_changes_nothing(deployed, moto_aws):
    again = deploy_workflow(moto_aws, TEST_SETTINGS, TEST_CONFIG)
    assert set(actions(again).values()) == {"unchanged"}
    assert {f["arn"] for f in again["functions"].values()} == {f["arn"] for f in deployed["functions"].values()}


def test_a_new_threshold_updates_only_the_filters_configuration(deployed, moto_aws):
    stricter = dataclasses.replace(TEST_SETTINGS, confidence_threshold=0.97)
    again = deploy_workflow(moto_aws, stricter, TEST_CONFIG)
    assert actions(again)["scones-filter-inferences"] == "updated"
    assert again["functions"]["filter_inferences"]["changed"] == ["Environment"]
    assert [a for n, a in actions(again).items() if n != "scones-filter-inferences"] == ["unchanged"] * 4


class LambdaMidUpdate:
    """moto's Lambda client, whose functions report an earlier creation or update still in
    progress (moto's are Active at once); it records waits and updates, in order."""

    def __init__(self, client, state: dict[str, str]) -> None:
        self._client, self._state, self.calls = client, state, []

    def get_function(self, **kwargs):
        answer = self._client.get_function(**kwargs)
        answer["Configuration"].update(self._state)
        return answer

    def get_waiter(self, name: str):
        self.calls.append(name)
        return self._client.get_waiter(name)

    def __getattr__(self, name: str):
        if name.startswith("update_"):
            self.calls.append(name)
        return getattr(self._client, name)


@pytest.mark.parametrize(
    ("state", "waits"),
    [
        ({"State": "Pending"}, ["function_active_v2"]),
        ({"State": "Active", "LastUpdateStatus": "InProgress"}, ["function_updated_v2"]),
    ],
    ids=["still-being-created", "update-in-progress"],
)
def test_an_update_waits_for_the_one_in_progress(deployed, moto_aws, state, waits):
    """Lambda refuses an update with ResourceConflictException until the previous one is done."""
    lam = LambdaMidUpdate(moto_aws("lambda"), state)
    stricter = dataclasses.replace(TEST_SETTINGS, confidence_threshold=0.97)
    again = deploy_workflow(lambda service: lam if service == "lambda" else moto_aws(service), stricter, TEST_CONFIG)
    assert again["functions"]["filter_inferences"]["changed"] == ["Environment"]
    assert lam.calls == [*waits, "update_function_configuration", "function_updated_v2"]


def test_changed_code_updates_only_that_function(deployed, moto_aws, source_dir):
    handler = source_dir / "lambdas" / "classify_image" / "handler.py"
    handler.write_text(handler.read_text().replace("DEFAULT_ENDPOINT_NAME = ", "# a change\nDEFAULT_ENDPOINT_NAME = "))
    again = deploy_workflow(moto_aws, TEST_SETTINGS, dataclasses.replace(TEST_CONFIG, source_dir=source_dir))
    assert again["functions"]["classify_image"]["changed"] == ["Code"]
    assert {n: a for n, a in actions(again).items() if a != "unchanged"} == {"scones-classify-image": "updated"}
    live = moto_aws("lambda").get_function(FunctionName="scones-classify-image")["Configuration"]["CodeSha256"]
    assert (
        live
        == again["functions"]["classify_image"]["code_sha256"]
        != deployed["functions"]["classify_image"]["code_sha256"]
    )


def test_a_new_concurrency_updates_only_the_batch_definition(deployed, moto_aws):
    again = deploy_workflow(moto_aws, TEST_SETTINGS, dataclasses.replace(TEST_CONFIG, max_concurrency=12))
    assert {n: a for n, a in actions(again).items() if a != "unchanged"} == {"scones-batch-classification": "updated"}
    definition = json.loads(
        moto_aws("stepfunctions").describe_state_machine(
            stateMachineArn=again["state_machines"]["classify_batch"]["arn"]
        )["definition"]
    )
    assert definition["States"]["ClassifyImages"]["MaxConcurrency"] == 12


def role_policy(moto_aws, role: str) -> dict:
    iam = moto_aws("iam")
    [name] = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    return document if isinstance(document, dict) else json.loads(document)


def test_roles_are_least_privilege(deployed, moto_aws):
    iam = moto_aws("iam")
    serialize = role_policy(moto_aws, "scones-serialize-image-data-role")
    reads = [s for s in serialize["Statement"] if s["Action"] == "s3:GetObject"]
    assert [s["Resource"] for s in reads] == [f"arn:aws:s3:::{TEST_SETTINGS.bucket}/datasets/cifar100-vehicles/*"]
    classify = role_policy(moto_aws, "scones-classify-image-role")
    [invoke_endpoint] = [s for s in classify["Statement"] if "sagemaker" in str(s["Action"])]
    assert invoke_endpoint["Action"] == "sagemaker:InvokeEndpoint"
    assert invoke_endpoint["Resource"] == "arn:aws:sagemaker:us-east-1:123456789012:endpoint/scones-endpoint"
    states = role_policy(moto_aws, "scones-workflow-states-role")
    invoke = next(s for s in states["Statement"] if s["Action"] == "lambda:InvokeFunction")
    assert {r for r in invoke["Resource"] if not r.endswith(":*")} == {f["arn"] for f in deployed["functions"].values()}
    assert (
        next(s for s in states["Statement"] if s["Action"] == "sns:Publish")["Resource"] == deployed["alerts_topic_arn"]
    )
    for role in (
        "scones-serialize-image-data-role",
        "scones-classify-image-role",
        "scones-filter-inferences-role",
        "scones-workflow-states-role",
    ):
        resources = [
            r
            for s in role_policy(moto_aws, role)["Statement"]
            for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
        ]
        assert "*" not in resources, f"{role} grants on every resource"
    trust = iam.get_role(RoleName="scones-classify-image-role")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_the_dag_and_deploy_workflow_run_the_same_steps():
    """One orchestration: every deployment task of the DAG calls a step of scones.workflow.deploy,
    and deploy_workflow calls exactly those steps."""
    import inspect
    import re

    from scones.localrun.airflow_home import DAGS_FOLDER
    from scones.workflow import deploy

    imports = re.findall(
        r"from scones\.workflow\.deploy import (.+)", (DAGS_FOLDER / "scones_deploy_workflow.py").read_text()
    )
    dag_steps = {name.split(" as ")[0].strip() for line in imports for name in line.split(",")}
    called = set(re.findall(r"\b(\w+)\(", inspect.getsource(deploy.deploy_workflow)))
    steps = {
        "deploy_function_roles",
        "deploy_alerts_topic",
        "package_functions",
        "deploy_function",
        "deploy_state_machine_role",
        "deploy_state_machines",
        "serving_classes",
    }
    assert dag_steps == steps and steps <= called


def test_deploy_workflow_zips_each_function_once(moto_aws, monkeypatch):
    from scones.workflow import deploy

    zipped: list[str] = []
    real = deploy.package_function
    monkeypatch.setattr(deploy, "package_function", lambda root, folder: zipped.append(folder) or real(root, folder))
    moto_aws("s3").create_bucket(Bucket=TEST_SETTINGS.bucket)
    deployed = deploy_workflow(moto_aws, TEST_SETTINGS, TEST_CONFIG)
    assert sorted(zipped) == sorted(FUNCTIONS) and set(deployed["functions"]) == set(FUNCTIONS)


def test_a_deploy_task_given_the_packaging_tasks_hash_refuses_changed_code(moto_aws, source_dir):
    """In the DAG the zip does not travel between tasks: deploy_function packages again and compares."""
    from scones.workflow.deploy import deploy_function, package_functions
    from scones.workflow.errors import PackagingError

    settings = dataclasses.replace(TEST_SETTINGS, workflow=dataclasses.replace(TEST_CONFIG, source_dir=source_dir))
    summary = {p.folder: p.summary() for p in package_functions(settings)}["classify_image"]
    (source_dir / "lambdas" / "classify_image" / "handler.py").write_text("# changed\n", encoding="utf-8")
    with pytest.raises(PackagingError, match="changed since it was packaged"):
        deploy_function(
            moto_aws("lambda"),
            "classify_image",
            settings,
            "arn:aws:iam::123456789012:role/r",
            ["bus"],
            expected_sha256=summary["code_sha256"],
        )
