"""`scones up --stack celery` as production runs it: the FAB login, the whole pipeline through the
REST API on Celery workers, the triggerer waiting on SageMaker, task logs read from the worker
that ran the task through its log server, a worker killed, the scheduler restarted."""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import time
from datetime import UTC, datetime

import psutil
import pytest

from scones.localrun.celery_stack import (
    LOG_ADDRESSES,
    LOG_SERVERS,
    WORKERS,
    log_folder,
    log_server_url,
    start_celery_stack,
    start_component,
)
from scones.localrun.rest import AirflowClient, status_of
from tests.e2e.test_stack import UNCHANGING_DAGS, free_port, listening_sockets, stack_home

PIPELINE = ("scones_cifar_etl", "scones_train_deploy", "scones_deploy_workflow", "scones_model_monitor")
ADMIN_PASSWORD = "celery-stack-test-password"


@pytest.fixture(scope="module")
def stack():
    home = stack_home()
    saved = os.environ.get("_AIRFLOW_WWW_USER_PASSWORD")
    os.environ["_AIRFLOW_WWW_USER_PASSWORD"] = ADMIN_PASSWORD
    try:
        stack = start_celery_stack(
            home,
            free_port(),
            extra_env={
                "SCONES_EPOCHS": "2",
                **UNCHANGING_DAGS,
                # A killed worker's task is found dead 12-14 s after its last heartbeat, not
                # Airflow's 5 minutes: a heartbeat every 2 s (not 5) leaves a live task 10 s of
                # slack on two busy cores, and the scheduler looks every 2 s (not 10).
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "12",
                "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "2",
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
                # and retried 2 s later, not 30 (the retry is what the test checks, not its delay).
                "SCONES_RETRY_DELAY_SECONDS": "2",
            },
        )
    finally:
        if saved is None:
            os.environ.pop("_AIRFLOW_WWW_USER_PASSWORD", None)
        else:
            os.environ["_AIRFLOW_WWW_USER_PASSWORD"] = saved
    yield stack
    stack.stop()
    assert all(p.poll() is not None for p in stack.processes.values()), "every Airflow process stops with the stack"
    assert all(s.proc is None or s.proc.poll() is not None for s in stack.servers), "PostgreSQL and Redis too"
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def client(stack):
    return AirflowClient(stack.url, stack.username, stack.password)


def test_the_rest_api_wants_a_fab_login(stack, client):
    assert status_of(f"{stack.url}/api/v2/dags") == 401
    wrong = {"username": stack.username, "password": "not-the-password"}
    assert status_of(f"{stack.url}/auth/token", "POST", body=wrong) == 401
    assert status_of(f"{stack.url}/api/v2/dags", headers={"Authorization": f"Bearer {client.token()}"}) == 200
    # The Model monitor page answers to the same login, through the FAB auth manager.
    assert status_of(f"{stack.url}/scones-monitor/") == 401
    assert status_of(f"{stack.url}/scones-monitor/", headers={"Authorization": f"Bearer {client.token()}"}) == 200
    health = client.call("/api/v2/monitor/health")
    assert {health[c]["status"] for c in ("metadatabase", "scheduler", "triggerer", "dag_processor")} == {"healthy"}


def test_every_server_of_the_stack_listens_on_this_machine_only(stack):
    """Airflow's worker and triggerer log servers bound every interface."""
    listening = listening_sockets(stack)
    assert len(listening) >= 4 + len(LOG_SERVERS), listening  # the API server, PostgreSQL, Redis, the emulator at least
    assert all(ipaddress.ip_address(address).is_loopback for address in listening.values()), listening
    assert set(listening.values()) <= {"127.0.0.1", *LOG_ADDRESSES.values()}, listening
    for server, name in LOG_SERVERS.items():  # each on its component's own address (two share a port)
        sockets = psutil.Process(stack.processes[server].pid).net_connections(kind="inet")
        assert {c.laddr.ip for c in sockets if c.status == psutil.CONN_LISTEN} == {LOG_ADDRESSES[name]}, server


def test_the_log_servers_want_a_token_signed_with_the_stacks_secret(stack):
    """Airflow's log server app: no JWT, one signed with another key, or one for another file, and
    nothing is served."""
    import jwt

    for name in LOG_ADDRESSES:
        url = f"{log_server_url(stack.env, name)}/log/dag_id=x/attempt=1.log"
        assert status_of(url) == 403, name
        forged = jwt.encode(
            {"filename": "dag_id=x/attempt=1.log", "aud": "task-instance-logs"},
            "not-the-stacks-secret-" * 4,
            algorithm="HS512",
        )
        assert status_of(url, headers={"Authorization": forged}) == 403, name
        # Signed with the stack's secret, a token opens the one file it names (Airflow's rule).
        now = int(time.time())
        claims = {"aud": "task-instance-logs", "iat": now, "nbf": now, "exp": now + 30}
        secret = stack.env["AIRFLOW__API__SECRET_KEY"]
        other_file = jwt.encode({**claims, "filename": "dag_id=x/attempt=2.log"}, secret, algorithm="HS512")
        assert status_of(url, headers={"Authorization": other_file}) == 403, name
        this_file = jwt.encode({**claims, "filename": "dag_id=x/attempt=1.log"}, secret, algorithm="HS512")
        assert status_of(url, headers={"Authorization": this_file}) == 404, name  # accepted; no such log


FINAL = ("success", "failed", "upstream_failed", "skipped")


def settled(state: str | None, wanted: str) -> str | None:
    """``state`` once it is ``wanted`` or final (then the wait is over either way), else None."""
    return state if state == wanted or state in FINAL else None


def wait_until(look, timeout: float = 600, interval: float = 0.5, what: str = "it"):
    """``look()``'s first truthy answer, asked every ``interval`` seconds until ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := look():
            return found
        time.sleep(interval)
    raise AssertionError(f"{what} not seen in {timeout:.0f}s")


def task_processes(worker: psutil.Process) -> list[psutil.Process]:
    """The worker's processes that run a task (Airflow titles them 'airflow worker -- <task instance id>')."""
    found = []
    for child in worker.children(recursive=True):
        try:
            if "airflow worker -- " in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            pass
    return found


def log_sources(client: AirflowClient, run_id: str, try_number: int = 1) -> list[str]:
    """Where the API server says it read train_model's log from (its "Log message source details")."""
    path = f"/api/v2/dags/scones_train_deploy/dagRuns/{run_id}/taskInstances/train_model/logs/{try_number}?full_content=true"
    events = [line.get("event", "") for line in client.call(path)["content"]]
    if "::group::Log message source details" not in events:
        return []
    start = events.index("::group::Log message source details") + 1
    return events[start : events.index("::endgroup::", start)]


def test_the_pipeline_on_celery_survives_a_killed_worker_and_a_scheduler_restart(stack, client):
    for dag_id in PIPELINE:
        client.unpause(dag_id)  # production creates them paused
    known = {run["dag_run_id"] for run in client.runs("scones_train_deploy")}
    assert client.wait_for_run("scones_cifar_etl", client.trigger("scones_cifar_etl")) == "success"

    # The ETL's Asset starts training. While train_model is deferred, restart the scheduler.
    # Our own deadline and a short poll: a fault injected only if a 3 s poll happened to see
    # the state made the test pass without the fault, or fail at random.
    train_run = client.wait_for_new_run("scones_train_deploy", known)
    train_state = wait_until(
        lambda: settled(client.task_instances("scones_train_deploy", train_run)["train_model"]["state"], "deferred"),
        interval=0.5,
        what="train_model deferred",
    )
    assert train_state == "deferred", f"train_model was never seen deferred (it ended {train_state})"
    # Deferred, its log comes from the triggerer that runs the trigger, through its log server.
    triggerer_logs = f"{log_server_url(stack.env, 'triggerer')}/log/"
    served_by_triggerer = wait_until(
        lambda: (
            any(s.startswith(triggerer_logs) for s in log_sources(client, train_run))
            or settled(client.task_instances("scones_train_deploy", train_run)["train_model"]["state"], "-")
        ),
        what="the trigger's log",
    )
    assert served_by_triggerer is True, (
        f"train_model's trigger log was not served by the triggerer (train_model {served_by_triggerer})"
    )
    stack.stop_process("scheduler")
    start_component(stack, "scheduler")

    state = client.wait_for_run("scones_train_deploy", train_run)
    instances = client.task_instances("scones_train_deploy", train_run)
    assert state == "success", {t: i["state"] for t, i in instances.items()}
    train = instances["train_model"]
    # The API server asks the worker that ran the task (the task instance's hostname is that
    # worker's address) for its log, with a JWT: no copy of it is in the API server's folder.
    worker = {address: name for name, address in LOG_ADDRESSES.items()}.get(train["hostname"])
    assert worker in WORKERS, f"train_model's hostname {train['hostname']!r} is no worker's address"
    log = client.task_log("scones_train_deploy", train_run, "train_model", train["try_number"])
    worker_logs = f"{log_server_url(stack.env, worker)}/log/"
    sources = log_sources(client, train_run, train["try_number"])
    served = [source for source in sources if source.startswith(worker_logs)]
    assert served, f"the log's sources name no log server of {worker}: {sources}"
    relative = served[0].removeprefix(worker_logs)
    assert not list((stack.home / "logs").glob(f"{relative}*")), "the API server has the log itself"
    assert (log_folder(stack.home, worker) / relative).is_file()
    assert "Validation-accuracy" in log, "the training job's epochs belong in the task log"
    assert "SageMaker job" in log and "completed." in log, "resumed on a worker after the trigger fired"
    # The trigger ran in the triggerer, which kept its own log; the task deferred on a worker.
    trigger_logs = list(log_folder(stack.home, "triggerer").glob(f"{relative}.trigger.*.log"))
    assert trigger_logs and "Trigger fired event" in trigger_logs[0].read_text()
    assert any(
        "Pausing task as DEFERRED" in (log_folder(stack.home, w) / relative).read_text()
        for w in WORKERS
        if (log_folder(stack.home, w) / relative).is_file()
    )

    # The workflow: kill -9 the worker that runs one of its tasks; the task is retried elsewhere.
    # Every task of the run keeps its process ('airflow worker -- ...') for seconds; a 0.1 s
    # look at the workers' processes cannot miss them all.
    workflow_run = client.trigger("scones_deploy_workflow")
    looks = iter(range(10**9))

    def busy_worker() -> str | None:
        for name in WORKERS:
            if task_processes(psutil.Process(stack.processes[name].pid)):
                return name
        if (
            next(looks) % 20 == 0
            and client.call(f"/api/v2/dags/scones_deploy_workflow/dagRuns/{workflow_run}")["state"] in FINAL
        ):
            return "the run ended"
        return None

    name = wait_until(busy_worker, interval=0.1, what="a worker running a task of the workflow")
    assert name in WORKERS, "no worker was seen running a task before the run ended"
    worker = psutil.Process(stack.processes[name].pid)
    for proc in [*worker.children(recursive=True), worker]:
        try:
            proc.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    stack.processes[name].wait()
    start_component(stack, name)  # back to two workers, as a supervisor would

    state = client.wait_for_run("scones_deploy_workflow", workflow_run)
    instances = client.task_instances("scones_deploy_workflow", workflow_run)
    assert state == "success", {t: (i["state"], i["try_number"]) for t, i in instances.items()}
    assert max(i["try_number"] for i in instances.values()) >= 2, "the killed worker's task was retried"

    today = datetime.now(UTC).date().isoformat()
    monitor_run = client.trigger("scones_model_monitor", {"day": today, "fail_on_violation": False})
    assert client.wait_for_run("scones_model_monitor", monitor_run) == "success"
