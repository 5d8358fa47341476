# The Airflow image with this project installed: the locked dependencies, then the package
# itself in editable mode, so the include/ that docker-compose.yaml mounts is the code that runs.
FROM apache/airflow:3.3.2-python3.11

USER airflow
WORKDIR /opt/airflow
COPY --chown=airflow:0 pyproject.toml uv.lock README.md /opt/airflow/
COPY --chown=airflow:0 include /opt/airflow/include
RUN pip install --no-cache-dir uv==0.13.9 \
 && uv export --frozen --no-dev --no-emit-project --no-hashes -o /tmp/requirements.txt \
 && pip install --no-cache-dir "apache-airflow==3.3.2" -r /tmp/requirements.txt \
 && pip install --no-cache-dir --no-deps -e /opt/airflow
