"""Start and stop the emulator: moto's threaded server plus our plug-ins."""

from __future__ import annotations

import importlib
import logging
import os
import threading
from pathlib import Path

from moto.core.config import default_user_config
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

log = logging.getLogger(__name__)

#: Modules with an ``install()`` that plugs compute into moto. A module that does not
#: exist yet is skipped, so each service can land on its own.
PLUGINS: tuple[str, ...] = (
    "scones.emulator.dispatch",
    "scones.emulator.s3",
    "scones.emulator.unsupported",
    "scones.emulator.sagemaker",
    "scones.emulator.awslambda",
    "scones.emulator.stepfunctions",
)

_install_lock = threading.Lock()
_installed: list[str] = []


def install_plugins() -> list[str]:
    """Install every available plug-in once; return the names installed."""
    with _install_lock:
        if _installed:
            return list(_installed)
        for name in PLUGINS:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name != name:  # the plug-in exists but one of its imports is missing
                    raise
                continue
            module.install()
            _installed.append(name)
        return list(_installed)


class PromptServer(ThreadedMotoServer):
    """moto's threaded server (its ``_server_entry``, as moto 5.2.5 writes it), stopped within
    :data:`POLL_SECONDS` rather than werkzeug's default 0.5 s poll, which every stop of the
    emulator waited out (each restart of the persistence tests)."""

    POLL_SECONDS = 0.05

    def _server_entry(self) -> None:
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever(poll_interval=self.POLL_SECONDS)


class LocalAWS:
    """moto's server on ``host:port`` with our compute installed.

    ``port=0`` picks a free port; ``endpoint_url`` tells which one after ``start()``.
    ``state_dir``: the folder its state is loaded from and kept in (None: in memory only).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 5000, state_dir: str | Path | None = None) -> None:
        self._server = PromptServer(ip_address=host, port=port, verbose=False)
        self.plugins: list[str] = []
        self.state_dir = state_dir
        self.persistence = None

    def start(self) -> LocalAWS:
        """Install the plug-ins, load the state folder (if any), then answer.

        :raises scones.emulator.persistence.StateRefused: the state folder cannot be loaded
        """
        if self.state_dir is not None:
            from scones.emulator.persistence import Persistence

            self.persistence = Persistence(self.state_dir).claim()  # refused in a second, not after the imports
        self.plugins = install_plugins()
        if self.persistence is not None:
            self.persistence.open()
        # moto's Step Functions interpreter only runs definitions when switched on, and
        # calls Lambda/SNS back through boto3 at localhost:$MOTO_PORT.
        default_user_config["stepfunctions"]["execute_state_machine"] = True
        self._server.start()
        os.environ["MOTO_PORT"] = str(self.port)
        log.info("local AWS listening on %s (plug-ins: %s)", self.endpoint_url, self.plugins)
        return self

    def stop(self) -> None:
        self._server.stop()
        if self.persistence is not None:
            self.persistence.close()  # after the last request: the last snapshot has everything

    @property
    def port(self) -> int:
        return self._server.get_host_and_port()[1]

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def __enter__(self) -> LocalAWS:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
