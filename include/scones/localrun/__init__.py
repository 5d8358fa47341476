"""Run the DAGs locally: a throwaway Airflow on SQLite against the emulator."""
