"""Adds a "Model monitor" page to the Airflow UI, served by the API server itself.

The page (include/scones/ui/monitor_page.py) shows the trends and daily reports of the
scones_model_monitor DAG, read from S3 through the ``aws_default`` connection (so it follows
the emulator locally), for the bucket and endpoint the DAG uses (include/scones/ui/context.py).
Only users whom Airflow's auth manager lets read that DAG may open it (include/scones/ui/security.py).
"""

from __future__ import annotations

from functools import cache

from airflow.plugins_manager import AirflowPlugin

from scones.ui.context import PageContext, airflow_core_variables
from scones.ui.monitor_page import create_app
from scones.ui.security import airflow_dag_reader, airflow_login_url

URL_PREFIX = "/scones-monitor"


@cache
def _s3():
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id="aws_default").get_conn()


context = PageContext(_s3, variables=airflow_core_variables)
app = create_app(
    s3=_s3,
    bucket=context.bucket,
    endpoint=context.endpoint,
    authorize=airflow_dag_reader(),
    login_url=airflow_login_url,
)


class SconesMonitorPlugin(AirflowPlugin):
    name = "scones_monitor"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "Model monitor"}]
    external_views = [
        {
            "name": "Model monitor",
            "href": f"{URL_PREFIX}/",
            "destination": "nav",
            "category": "browse",
            "url_route": "scones-monitor",
        }
    ]
