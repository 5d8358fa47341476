"""docker-compose.yaml, read by a real compose parser (podman-compose's), since no engine runs here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
AIRFLOW_SERVICES = {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker",
                    "airflow-triggerer", "airflow-init"}  # fmt: skip
PODMAN_COMPOSE = str(Path(sys.executable).with_name("podman-compose"))


def compose_config(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PODMAN_COMPOSE, "--dry-run", "-f", str(ROOT / "docker-compose.yaml"), *args, "config"],
        cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "AIRFLOW_JWT_SECRET": "test-secret", **(env or {})},
    )  # fmt: skip


@pytest.fixture(scope="module")
def config() -> dict:
    out = compose_config()
    assert out.returncode == 0, out.stderr
    return yaml.safe_load(out.stdout)


def test_services_and_images(config):
    services = config["services"]
    assert set(services) == AIRFLOW_SERVICES | {"postgres", "redis"}, "local-aws must only come with its profile"
    assert services["postgres"]["image"] == "postgres:16"
    assert re.fullmatch(r"redis:7\.2(-\w+)?", services["redis"]["image"])
    for name in AIRFLOW_SERVICES:
        assert services[name]["image"] == "scones-airflow:latest" and services[name]["build"]["context"] == str(ROOT)
    dockerfile = (ROOT / "Dockerfile").read_text()
    pinned = re.search(r'"apache-airflow==([\d.]+)"', (ROOT / "pyproject.toml").read_text()).group(1)
    assert f"FROM apache/airflow:{pinned}-python3.11" in dockerfile


def test_project_is_mounted_in_every_airflow_service(config):
    for name in AIRFLOW_SERVICES:
        targets = {v.split(":")[1] for v in config["services"][name]["volumes"]}
        assert {"/opt/airflow/dags", "/opt/airflow/plugins", "/opt/airflow/include"} <= targets, name


def test_services_share_executor_execution_api_and_jwt_secret(config):
    envs = [config["services"][n]["environment"] for n in AIRFLOW_SERVICES]
    for env in envs:
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == "test-secret"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
        assert env["AWS_DEFAULT_REGION"] == "us-east-1"


def test_health_checks(config):
    services = config["services"]
    assert "/api/v2/monitor/health" in " ".join(services["airflow-apiserver"]["healthcheck"]["test"])
    assert services["airflow-scheduler"]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    for name in ("postgres", "redis", "airflow-worker", "airflow-triggerer", "airflow-dag-processor"):
        assert services[name]["healthcheck"]["test"], name


def test_aws_settings_come_from_the_environment():
    out = compose_config(env={"AWS_DEFAULT_REGION": "eu-west-1", "SCONES_BUCKET": "my-bucket"})
    env = yaml.safe_load(out.stdout)["services"]["airflow-worker"]["environment"]
    assert env["AWS_DEFAULT_REGION"] == "eu-west-1" and env["SCONES_BUCKET"] == "my-bucket"


def test_jwt_secret_is_required():
    out = subprocess.run(
        [PODMAN_COMPOSE, "--dry-run", "-f", str(ROOT / "docker-compose.yaml"), "config"],
        cwd=ROOT, capture_output=True, text=True, env={k: v for k, v in os.environ.items() if k != "AIRFLOW_JWT_SECRET"},
    )  # fmt: skip
    assert out.returncode != 0 and "AIRFLOW_JWT_SECRET" in out.stdout + out.stderr


def test_local_aws_profile_adds_the_emulator_and_points_airflow_at_it():
    out = compose_config("--profile", "local-aws", env={"SCONES_ENV_FILE": "compose/local-aws.env"})
    assert out.returncode == 0, out.stderr
    services = yaml.safe_load(out.stdout)["services"]
    emulator = services["local-aws"]
    assert emulator["entrypoint"][:2] == ["scones", "local-aws"] and "0.0.0.0" in emulator["entrypoint"]
    assert services["airflow-worker"]["env_file"] == ["compose/local-aws.env"]
    local_env = dict(
        line.split("=", 1) for line in (ROOT / "compose/local-aws.env").read_text().splitlines()
        if line and not line.startswith("#")
    )  # fmt: skip
    assert local_env["AWS_ENDPOINT_URL"] == "http://local-aws:5000"
    assert '"endpoint_url": "http://local-aws:5000"' in local_env["AIRFLOW_CONN_AWS_DEFAULT"]
