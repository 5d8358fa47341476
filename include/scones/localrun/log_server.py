"""Airflow's log server for one component of the native Celery stack, on a loopback address of its own.

The API server reads the log of a task that ran elsewhere from that machine's log server:
``http://<the task instance's hostname>:<[logging] worker_log_server_port>/log/<file>`` (for a
deferred task, the triggerer's host and ``trigger_log_server_port``), with a JWT signed with the
shared ``[api] secret_key``. Started by Airflow (``airflow celery worker`` without
``--skip-serve-logs``) that server listens on every interface (airflow.utils.serve_logs binds
``''``): the stack runs the same app here, bound to the component's own address instead.

That address is also the component's hostname in Airflow (:func:`hostname`, set as
``[core] hostname_callable``): each worker has its own address in 127.0.0.0/8 (all of it is
loopback on Linux), so two workers serve on one port as two machines would, and a task
instance's hostname names the server that holds its log.

``python -m scones.localrun.log_server worker|trigger`` serves ``[logging] base_log_folder`` on
``$SCONES_LOG_SERVER_ADDRESS`` and the ``worker_log_server_port`` or ``trigger_log_server_port``.
"""

from __future__ import annotations

import os
import sys

#: The component's own loopback address: its hostname in Airflow and where its log server listens.
ADDRESS_VARIABLE = "SCONES_LOG_SERVER_ADDRESS"


def hostname() -> str:
    """Airflow's ``[core] hostname_callable`` in the stack: the component's own address, else
    Airflow's default (the API server, scheduler and DAG processor serve no logs)."""
    if address := os.environ.get(ADDRESS_VARIABLE):
        return address
    from airflow.utils.net import getfqdn

    return getfqdn()


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ("worker", "trigger") or not os.environ.get(ADDRESS_VARIABLE):
        print(
            f"usage: {ADDRESS_VARIABLE}=127.0.0.N python -m scones.localrun.log_server worker|trigger", file=sys.stderr
        )
        return 2
    import uvicorn
    from airflow.configuration import conf

    port = conf.getint("logging", f"{argv[0]}_log_server_port")
    # Airflow's own app: it checks the JWT (audience task-instance-logs, signed with
    # [api] secret_key) and that the token names the file asked for.
    uvicorn.run(
        "airflow.utils.serve_logs.log_server:get_app",
        factory=True,
        host=os.environ[ADDRESS_VARIABLE],
        port=port,
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
