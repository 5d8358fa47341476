"""`scones up`'s stack as a user meets it: the REST API the UI calls, a run, its task logs."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import psutil
import pytest

from scones.localrun.rest import AirflowClient, status_of
from scones.localrun.servers import free_port
from scones.localrun.stack import client_exports, start_stack
from tests.support.folders import postgres_usable_folder

#: The stacks' tests change no DAG file: the DAG processor parses each one at its start, not every
#: 30 s again (Airflow's default, which is for people editing DAGs; 2 CPU-s a minute per stack).
UNCHANGING_DAGS = {"AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "3600"}


def stack_home() -> Path:
    """A stack's home (PostgreSQL's data folder is in it); the caller removes it."""
    return postgres_usable_folder("scones-stack-")


@pytest.fixture(scope="module")
def stack():
    home = stack_home()
    stack = start_stack(home, free_port(), extra_env={"SCONES_EPOCHS": "3", **UNCHANGING_DAGS})
    yield stack
    stack.stop()
    assert all(p.poll() is not None for p in stack.processes.values()), "every Airflow process stops with the stack"
    assert all(s.proc is None or s.proc.poll() is not None for s in stack.servers), (
        "PostgreSQL must stop with the stack"
    )
    shutil.rmtree(home, ignore_errors=True)


def listening_addresses(port: int) -> set[str]:
    """The local addresses of the TCP sockets listening on ``port``, as the kernel lists them."""
    found = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        path = Path(table)
        for line in path.read_text().splitlines()[1:] if path.exists() else []:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)  # 32-bit words in host (little-endian) order
                raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
                found.add(socket.inet_ntop(family, raw))
    return found


@pytest.fixture(scope="module")
def client(stack):
    """The REST API as a client uses it (a token from POST /auth/token)."""
    return AirflowClient(stack.url, stack.username, stack.password)


def test_the_etl_triggered_through_the_api_trains_and_deploys_and_its_training_log_is_read(client):
    dags = {d["dag_id"]: d for d in client.call("/api/v2/dags")["dags"]}
    assert {"scones_cifar_etl", "scones_train_deploy"} <= set(dags)
    assert not dags["scones_train_deploy"]["is_paused"]

    # The ETL's Asset event starts the training, as every night: that run is the one followed.
    # (A second run triggered here waited behind it, max_active_runs=1, and trained again.)
    known = {run["dag_run_id"] for run in client.runs("scones_train_deploy")}
    assert client.wait_for_run("scones_cifar_etl", client.trigger("scones_cifar_etl")) == "success"
    run_id = client.wait_for_new_run("scones_train_deploy", known)
    state = client.wait_for_run("scones_train_deploy", run_id)
    instances = client.task_instances("scones_train_deploy", run_id)
    states = {task_id: t["state"] for task_id, t in instances.items()}
    assert state == "success", states
    assert states["deploy_endpoint"] == "success", states

    text = client.task_log("scones_train_deploy", run_id, "train_model", instances["train_model"]["try_number"])
    assert "Validation-accuracy" in text, "the SageMaker training log belongs in the task log"


def test_a_burst_of_triggers_gets_no_500(stack, client):
    """On SQLite the API server gave up after 5 s on the write lock and answered a trigger with a 500."""
    from concurrent.futures import ThreadPoolExecutor

    dag_id = "scones_model_monitor"
    client.call(f"/api/v2/dags/{dag_id}", "PATCH", {"is_paused": True})  # the runs wait, queued
    headers = {"Authorization": f"Bearer {client.token()}"}
    body = {"logical_date": None, "conf": {"day": "2026-01-01", "fail_on_violation": False}}
    with ThreadPoolExecutor(8) as pool:
        statuses = list(
            pool.map(lambda _: status_of(f"{stack.url}/api/v2/dags/{dag_id}/dagRuns", "POST", headers, body), range(40))
        )
    assert statuses == [200] * 40


def listening_sockets(stack) -> dict[tuple[str, int], str]:
    """(process name, port) -> address of every socket the stack's processes (and their children) listen on."""
    roots = [*stack.processes.values(), *(s.proc for s in stack.servers), stack.emulator._proc]
    found = {}
    for root in roots:
        top = psutil.Process(root.pid)
        for proc in [top, *top.children(recursive=True)]:
            try:
                for conn in proc.net_connections(kind="inet"):
                    if conn.status == psutil.CONN_LISTEN:
                        found[(proc.name(), conn.laddr.port)] = conn.laddr.ip
            except psutil.NoSuchProcess:
                pass
    return found


def test_api_server_listens_on_this_machine_only(stack):
    assert listening_addresses(urlparse(stack.url).port) == {"127.0.0.1"}
    # Every other server too: airflow standalone's scheduler and triggerer started Airflow's
    # log servers, which listen on every interface.
    listening = listening_sockets(stack)
    assert len(listening) >= 3, listening  # the API server, PostgreSQL, the emulator at least
    assert set(listening.values()) == {"127.0.0.1"}, listening


def test_monitor_page_is_served_by_the_api_server_behind_its_login(stack, client):
    def status(path: str, token: str | None = None) -> int:
        return status_of(f"{stack.url}{path}", headers={"Authorization": f"Bearer {token}"} if token else None)

    for path in ("/scones-monitor/", "/scones-monitor/reports/2026-11-22"):
        assert status(path) == 401, f"{path} without a login"
    assert status("/scones-monitor/", client.token()) == 200
    assert status("/scones-monitor/reports/2020-01-01", client.token()) == 404, "a day with no report"
    assert status("/scones-monitor/openapi.json", client.token()) == 404


def test_scones_traffic_finds_the_emulator_with_the_lines_scones_up_prints(stack):
    """After `scones up`, `scones traffic` said 'no AWS credentials' (or tried real AWS)."""
    line = client_exports(stack.emulator.endpoint_url, "us-east-1")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(item.split("=", 1) for item in line.removeprefix("export ").split())
    out = subprocess.run(
        [str(Path(sys.executable).with_name("scones")), "traffic", "--count", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # This stack never deployed the workflow: only the emulator can have said so.
    assert out.returncode == 1 and "does not exist: deploy the workflow first" in out.stderr, out.stderr
