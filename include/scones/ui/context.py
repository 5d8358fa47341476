"""What the monitor page reads its reports with: the settings as the monitor DAG sees them, and
the endpoint that serves.

The DAG's tasks take Params, then Airflow Variables, the environment and defaults; the page
has no Params, so it takes the rest in the same order (the API server reads Variables from the
metadata database, not through the Task SDK). The endpoint is the one the deployment record
(``models/deployments/current.json``) names, as the monitor DAG reports on, falling back to the
settings' name before the first deployment.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from scones.settings import Settings, load_settings

log = logging.getLogger(__name__)

#: How long settings read from Variables are reused (a page load would otherwise read each one).
SETTINGS_TTL_SECONDS = 30.0


def airflow_core_variables() -> Callable[[str], str | None]:
    """Variable lookup in the API server: Airflow's core model, which reads the database."""
    from airflow.models.variable import Variable

    return lambda key: Variable.get(key, default_var=None)


class PageContext:
    """Settings (re-read at most every ``ttl`` seconds) and the serving endpoint, for each request."""

    def __init__(
        self,
        s3: Callable[[], Any],
        variables: Callable[[], Callable[[str], str | None]] | None = None,
        ttl: float = SETTINGS_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._s3, self._variables, self._ttl, self._clock = s3, variables, ttl, clock
        self._lock = threading.Lock()
        self._cached: tuple[float, Settings] | None = None

    def settings(self) -> Settings:
        with self._lock:
            now = self._clock()
            if self._cached is None or now - self._cached[0] >= self._ttl:
                variables = self._variables() if self._variables else None
                self._cached = (now, load_settings(variables=variables))
            return self._cached[1]

    def bucket(self) -> str:
        return self.settings().bucket

    def endpoint(self) -> str:
        from scones.deployment.record import read_current

        settings = self.settings()
        try:
            deployment = read_current(self._s3(), settings.bucket, settings.models_prefix)
        except Exception as exc:  # an unreadable record must not hide the reports: say so, use the settings' name
            log.warning("cannot read the deployment record (%s): showing endpoint %s", exc, settings.endpoint_name)
            return settings.endpoint_name
        return deployment.endpoint_name if deployment else settings.endpoint_name
