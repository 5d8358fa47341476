"""The Airflow settings of the production layout: one list for docker-compose.yaml and the native
Celery stack (``scones up --stack celery``).

:data:`CELERY_STACK_SETTINGS` is what both give every Airflow process, value for value.
:data:`PER_DEPLOYMENT` names the settings both must give but each fills in its own way (where
Postgres, Redis and the API server are; secrets from .env or made once per home).
tests/test_compose.py fails when docker-compose.yaml's ``x-airflow-common`` environment drifts
from these, and tests/test_celery_stack_config.py when the native stack's does.
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

PER_DEPLOYMENT: frozenset[str] = frozenset({
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__CELERY__RESULT_BACKEND",
    "AIRFLOW__CELERY__BROKER_URL",
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    "AIRFLOW__API_AUTH__JWT_SECRET",
})  # fmt: skip
