"""LocalAirflow's commands run in one warm Airflow process: each exactly as ``airflow ...`` (its
own log, its own exit status), and a runner that dies takes only its command down. A task in it
reads its settings from Variables as a worker's would."""

from __future__ import annotations

import textwrap

import pytest

from scones.localrun.airflow_home import LocalAirflow

DAGS = {
    "says_its_pid": """
        import os
        import pendulum
        from airflow.sdk import dag, task

        @dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1))
        def says_its_pid():
            @task
            def pid():
                print(f"task ran in process {os.getpid()}")

            pid()

        says_its_pid()
    """,
    "fails": """
        import pendulum
        from airflow.sdk import dag, task

        @dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1))
        def fails():
            @task(retries=0)
            def broken():
                raise ValueError("this task is broken on purpose")

            broken()

        fails()
    """,
    "kills_its_process": """
        import os
        import signal
        import pendulum
        from airflow.sdk import dag, task

        @dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1))
        def kills_its_process():
            @task
            def kill():
                os.kill(os.getpid(), signal.SIGKILL)

            kill()

        kills_its_process()
    """,
    "reads_its_settings": """
        import collections
        import pendulum
        from airflow.sdk import dag, task

        @dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1))
        def reads_its_settings():
            @task
            def read():
                from airflow.sdk.execution_time import task_runner
                from scones.airflow_glue import task_settings

                sent = collections.Counter()
                comms = type(task_runner.SUPERVISOR_COMMS)
                send = comms.send

                def counted(self, msg, *args, **kwargs):
                    if "Variable" in type(msg).__name__:  # GetVariable, GetVariableKeys
                        sent[type(msg).__name__] += 1
                    return send(self, msg, *args, **kwargs)

                comms.send = counted
                try:
                    s = task_settings()
                finally:
                    comms.send = send
                print(f"bucket={s.bucket} region={s.region} concurrency={s.upload_concurrency} sent={dict(sent)}")

            read()

        reads_its_settings()
    """,
}


@pytest.fixture(scope="module")
def airflow(tmp_path_factory):
    home = tmp_path_factory.mktemp("runner")
    dags = home / "dags"
    dags.mkdir()
    for dag_id, source in DAGS.items():
        (dags / f"{dag_id}.py").write_text(textwrap.dedent(source))
    env = {
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "SCONES_BUCKET": "bucket-from-environment",  # the Variable below wins
        "AIRFLOW_VAR_SCONES_REGION": "eu-west-3",  # a Variable the worker's environment holds
    }
    with LocalAirflow(home, "http://127.0.0.1:1", env) as airflow:
        airflow.migrate()
        yield airflow


def test_commands_share_one_process_and_each_has_its_own_log_and_status(airflow):
    first = airflow.test_dag("says_its_pid")
    runner = airflow._runner
    failed = airflow.test_dag("fails")
    second = airflow.test_dag("says_its_pid")

    assert first.ok and second.ok and first.returncode == 0
    assert f"task ran in process {runner.pid}" in first.log_path.read_text()
    assert f"task ran in process {runner.pid}" in second.log_path.read_text()
    assert airflow._runner is runner and runner.poll() is None

    assert not failed.ok and failed.returncode == 1 and failed.task_states == {"broken": "failed"}
    log = failed.log_path.read_text()
    assert "this task is broken on purpose" in log and "DagRun failed" in log
    assert "task ran in process" not in log and "broken on purpose" not in first.log_path.read_text()


def test_a_runner_that_dies_fails_its_command_only(airflow):
    killed = airflow.test_dag("kills_its_process")
    assert not killed.ok and killed.returncode == -9
    assert "the Airflow runner process ended with status -9" in killed.log_path.read_text()

    after = airflow.test_dag("says_its_pid")
    assert after.ok, after.log_path.read_text()[-2000:]


def test_a_task_reads_the_variables_that_are_set_and_asks_for_no_others(airflow):
    assert airflow.run(["variables", "set", "scones_bucket", "bucket-from-variable"], airflow.home / "set.log") == 0

    run = airflow.test_dag("reads_its_settings")

    assert run.ok, run.log_path.read_text()[-2000:]
    log = run.log_path.read_text()
    assert "bucket=bucket-from-variable region=eu-west-3 concurrency=16" in log
    # one request for the names, one for the Variable stored in the database; not one per setting
    assert "sent={'GetVariableKeys': 1, 'GetVariable': 1}" in log, log[-2000:]


def test_closing_ends_the_runner(tmp_path):
    with LocalAirflow(tmp_path, "http://127.0.0.1:1") as airflow:
        assert airflow.run(["version"], tmp_path / "version.log") == 0
        runner = airflow._runner
    assert runner.poll() == 0 and airflow._runner is None
    assert (tmp_path / "version.log").read_text().strip()[:1].isdigit()  # `airflow version` printed a version
