"""Run the DAGs locally against the emulator: `scones demo` (SQLite, `airflow dags test`) and `scones up` (PostgreSQL, and Redis for Celery)."""
