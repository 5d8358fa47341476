"""Pages the Airflow API server serves through this project's plugin (plugins/)."""
