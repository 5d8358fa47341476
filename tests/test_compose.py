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
AIRFLOW_SERVICES = {
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-worker",
    "airflow-triggerer",
    "airflow-init",
}
PODMAN_COMPOSE = str(Path(sys.executable).with_name("podman-compose"))
#: What .env must hold: compose refuses to start without each.
SECRETS = {
    "AIRFLOW_JWT_SECRET": "test-secret",
    "AIRFLOW_API_SECRET_KEY": "test-api-secret-key",
    "AIRFLOW_FERNET_KEY": "test-fernet-key",
    "POSTGRES_PASSWORD": "test-postgres-password",
    "REDIS_PASSWORD": "test-redis-password",
    "_AIRFLOW_WWW_USER_PASSWORD": "test-admin-password",
}
#: What the env files give: an `environment:` entry of the same name would override them.
ENV_FILE_VARIABLES = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AIRFLOW_CONN_AWS_DEFAULT",
}


def compose_config(
    *args: str, env: dict[str, str] | None = None, secrets: dict[str, str] = SECRETS
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS}
    return subprocess.run(
        [PODMAN_COMPOSE, "--dry-run", "-f", str(ROOT / "docker-compose.yaml"), *args, "config"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**clean, **secrets, **(env or {})},
    )


def env_file(path: str) -> dict[str, str | None]:
    """An env file as compose reads it: ``NAME=value``, or a bare ``NAME`` (the host's value)."""
    entries: dict[str, str | None] = {}
    for line in (ROOT / path).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, value = line.partition("=")
            entries[name.strip()] = value if sep else None
    return entries


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


def test_airflow_settings_are_the_native_celery_stacks(config):
    """One source of truth: x-airflow-common's Airflow settings are airflow_settings.py's, no more, no less."""
    from scones.localrun.airflow_settings import CELERY_STACK_SETTINGS, PER_DEPLOYMENT

    for name in AIRFLOW_SERVICES:
        env = config["services"][name]["environment"]
        airflow = {k: v for k, v in env.items() if k.startswith("AIRFLOW__")}
        assert set(airflow) == set(CELERY_STACK_SETTINGS) | PER_DEPLOYMENT, name
        assert {k: airflow[k] for k in CELERY_STACK_SETTINGS} == CELERY_STACK_SETTINGS, name


def test_secrets_come_from_env_and_nothing_has_a_default(config):
    env = config["services"]["airflow-scheduler"]["environment"]
    assert (
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        == "postgresql+psycopg2://airflow:test-postgres-password@postgres/airflow"
    )
    assert (
        env["AIRFLOW__CELERY__RESULT_BACKEND"]
        == "db+postgresql+psycopg2://airflow:test-postgres-password@postgres/airflow"
    )
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://:test-redis-password@redis:6379/0"
    assert env["AIRFLOW__CORE__FERNET_KEY"] == "test-fernet-key"
    assert env["AIRFLOW__API__SECRET_KEY"] == "test-api-secret-key", (
        "one key for every API server: FAB sessions survive a recreate"
    )
    assert config["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == "test-postgres-password"
    redis = config["services"]["redis"]
    assert redis["environment"]["REDIS_PASSWORD"] == "test-redis-password" and "--requirepass" in " ".join(
        redis["command"]
    )
    assert config["services"]["airflow-init"]["environment"]["_AIRFLOW_WWW_USER_PASSWORD"] == "test-admin-password"
    assert "fab_admin" in " ".join(config["services"]["airflow-init"]["command"])


@pytest.mark.parametrize("secret", sorted(SECRETS))
def test_each_secret_is_required(secret):
    out = compose_config(secrets={k: v for k, v in SECRETS.items() if k != secret})
    assert out.returncode != 0 and secret in out.stdout + out.stderr


def test_the_ui_is_published_on_loopback_unless_widened(config):
    assert config["services"]["airflow-apiserver"]["ports"] == ["127.0.0.1:8080:8080"]
    out = compose_config(env={"AIRFLOW_PUBLISH_ADDRESS": "0.0.0.0", "AIRFLOW_PORT": "9090"})
    assert yaml.safe_load(out.stdout)["services"]["airflow-apiserver"]["ports"] == ["0.0.0.0:9090:8080"]


@pytest.mark.parametrize("env_file_path", ["compose/aws.env", "compose/local-aws.env"])
def test_env_files_credentials_are_not_overridden(env_file_path):
    """An `environment:` entry beats env_file: AWS_ACCESS_KEY_ID: ${AWS_ACCESS_KEY_ID:-} emptied the
    emulator's `testing` on a host without AWS keys, and boto3 failed with NoCredentialsError."""
    out = compose_config("--profile", "local-aws", env={"SCONES_ENV_FILE": env_file_path})
    services = yaml.safe_load(out.stdout)["services"]
    for name, service in services.items():
        if service.get("env_file"):
            assert service["env_file"] == [env_file_path]
            assert not ENV_FILE_VARIABLES & set(service.get("environment", {})), name
    credentials = env_file(env_file_path)
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(credentials)
    if env_file_path == "compose/local-aws.env":
        assert credentials["AWS_ACCESS_KEY_ID"] == credentials["AWS_SECRET_ACCESS_KEY"] == "testing"
    else:  # real AWS: the host's credentials, passed through
        assert credentials["AWS_ACCESS_KEY_ID"] is None and credentials["AWS_SESSION_TOKEN"] is None


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


def test_local_aws_profile_adds_the_emulator_and_points_airflow_at_it():
    out = compose_config("--profile", "local-aws", env={"SCONES_ENV_FILE": "compose/local-aws.env"})
    assert out.returncode == 0, out.stderr
    services = yaml.safe_load(out.stdout)["services"]
    emulator = services["local-aws"]
    assert emulator["entrypoint"][:2] == ["scones", "local-aws"] and "0.0.0.0" in emulator["entrypoint"]
    assert services["airflow-worker"]["env_file"] == ["compose/local-aws.env"]
    local_env = env_file("compose/local-aws.env")
    assert local_env["AWS_ENDPOINT_URL"] == "http://local-aws:5000"
    assert '"endpoint_url": "http://local-aws:5000"' in local_env["AIRFLOW_CONN_AWS_DEFAULT"]
