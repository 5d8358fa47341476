"""The Airflow settings of the production layout: one list for docker-compose.yaml and the native
Celery stack (``scones up --stack celery``).

:data:`CELERY_STACK_SETTINGS` is what both give every Airflow process, value for value.
:data:`PER_DEPLOYMENT` names the settings both must give but each fills in its own way (where
Postgres, Redis and the API server are; secrets from .env or made once per home).
tests/test_compose.py fails when docker-compose.yaml's ``x-airflow-common`` environment drifts
from these, and tests/test_celery_stack_config.py when the native stack's does (in either
direction: a native setting is shared, per deployment, or in :data:`NATIVE_ONLY` with its reason).
"""

from __future__ import annotations

FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"

CELERY_STACK_SETTINGS: dict[str, str] = {
    "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
    # A real login (users in the metadata database, hashed passwords), not the simple auth
    # manager, which Airflow calls development-only.
    "AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER,
    "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "true",
    "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
    "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "true",
    # The triggerer waits on SageMaker, not a worker slot.
    "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "true",
}

PER_DEPLOYMENT: frozenset[str] = frozenset(
    {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__CELERY__RESULT_BACKEND",
        "AIRFLOW__CELERY__BROKER_URL",
        "AIRFLOW__CORE__FERNET_KEY",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        # FAB signs its session cookies with it: without one, each API server (each container
        # recreated) picks a random key and every login is lost.
        "AIRFLOW__API__SECRET_KEY",
    }
)

#: What only the native stack sets, and why compose needs none of it.
NATIVE_ONLY: dict[str, str] = {
    # Compose's containers each have their own network namespace and hostname; on one machine
    # the API server's address and every port must be chosen so two stacks do not collide.
    "AIRFLOW__API__HOST": "compose: the container listens on every interface, published on 127.0.0.1",
    "AIRFLOW__API__PORT": "compose: 8080 in the container, AIRFLOW_PORT on the host",
    "AIRFLOW__API__BASE_URL": "compose: the default (the API server's own address) is right",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "compose: the container's own network",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": "compose: one scheduler per container, port 8974",
    "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": "compose: one worker per container, port 8793",
    "AIRFLOW__CORE__HOSTNAME_CALLABLE": "compose: each container's hostname reaches its log server; here "
    "each worker's own loopback address does",
    "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": "compose: one triggerer per container, port 8794",
    # Sizes for one shared machine; compose scales by containers.
    "AIRFLOW__CELERY__WORKER_CONCURRENCY": "compose: the default (16) per worker container",
    # The project is mounted at Airflow's default folders in the image; here it is the checkout.
    "AIRFLOW__CORE__DAGS_FOLDER": "compose: /opt/airflow/dags, the image's default",
    "AIRFLOW__CORE__PLUGINS_FOLDER": "compose: /opt/airflow/plugins, the image's default",
    # The developer environment of scones.localrun.airflow_home, which every local shape shares.
    "AIRFLOW__CORE__UNIT_TEST_MODE": "compose: the default (False); set explicitly against the test env",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "compose: the default (INFO); set explicitly against the shell's",
}
