"""The emulator's state in a folder: back after a restart, and nothing acknowledged lost to a kill -9.

Why snapshots and not a log of requests (docs/emulator-persistence.md): replaying requests
would train again, run executions again and call Lambdas again. So what is written is
moto's state itself: each service's backends pickled whole, when a request may have changed
them, before its answer goes out; S3's objects one key at a time, their bodies as files
(which is also where moto's bodies now live, instead of memory). Every file is written
atomically (temporary file, fsync, rename), so a kill -9 leaves the old file or the new one.

Public surface::

    Persistence(state_dir).claim()  lock the folder and check its versions (before moto is patched)
    Persistence.open()              load, recover, then hook the writes (before serving)
    Persistence.close()             a last snapshot, and the folder released
    StateRefused                    another version's folder, a corrupt file, or a folder in use

Modules: ``layout`` (the folder, its manifest, lock and permissions), ``pickling`` (what is
state and what is dropped), ``backends`` (one file per BackendDict), ``s3_objects`` (bodies
and key records), ``requests`` (when to write), ``changes`` (what the emulator's own threads
finish, saved before a client sees it), ``recovery`` (what was running comes back honestly),
``seams`` (the moto internals this relies on, checked first).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import IO, Any

from scones.emulator.persistence.layout import STATE_FORMAT, StateDir, StateRefused

__all__ = ["STATE_FORMAT", "Persistence", "StateRefused"]

log = logging.getLogger(__name__)

#: Background snapshot period: state that changes without a request (a training job's
#: progress, an execution's history, logs) is written this often, and at a clean stop.
BACKGROUND_SECONDS = 2.0
#: The background snapshot rests once no request and no background change came for this long
#: (what is running then only finishes through ``changes.background_change``, which saves).
QUIET_SECONDS = 60.0
#: ``GET /moto-api/scones/persistence``: time requests spent writing state (seconds, writes, ms_per_write).
COSTS_PATH = "scones/persistence"


class Persistence:
    def __init__(self, state_dir: str | Path) -> None:
        self.state = StateDir(Path(state_dir).resolve())
        self.summary: dict[str, Any] = {}
        self._lock_file: IO[str] | None = None
        self._files: Any = None
        self._stop = threading.Event()
        self._saver: threading.Thread | None = None

    def claim(self) -> Persistence:
        """Hold the folder and check it was written by this format, project and moto version.

        :raises StateRefused: another version's folder, or one in use
        """
        if self._lock_file is None:
            self._lock_file = self.state.open()
        return self

    def open(self) -> Persistence:
        """Load the folder into moto (plug-ins installed, server not yet answering); then write on change.

        :raises StateRefused: nothing was loaded
        """
        from scones.emulator.persistence import changes, recovery, requests, s3_objects, seams
        from scones.emulator.persistence.backends import BackendFiles

        self.claim()
        assert self._lock_file is not None
        try:
            seams.check_seams()
            s3_objects.install(self.state)
            self._files = BackendFiles(self.state)
            services = self._files.load()
            from moto.s3.models import s3_backends

            keys, bodies = s3_objects.load_keys(s3_backends)
            removed = s3_objects.collect_garbage(bodies, s3_backends)
            temporaries = self.state.remove_temporaries()
            self.summary = {
                "services": len(services),
                "s3_keys": keys,
                "orphan_bodies_removed": removed,
                "temporary_files_removed": temporaries,
                **recovery.recover_sagemaker(),
                "executions_failed": recovery.recover_stepfunctions(),
            }
        except BaseException:
            self._lock_file.close()
            raise
        from scones.emulator.sagemaker.seams import add_control_route

        add_control_route(COSTS_PATH, requests.COSTS.answer)
        requests.install_wsgi_hook(self._save_after_request, self._files.unsaved)
        changes.set_saver(lambda: self._files.save(include_s3=False))
        _announce_execution_ends()
        requests.install_s3_hooks(lambda: self._files.save(only_s3=True), s3_objects.persist_key)
        self._saver = threading.Thread(target=self._save_periodically, name="state-saver", daemon=True)
        self._saver.start()
        return self

    def _save_after_request(self, service: str) -> int:
        """Before a mutating request is answered: its service's state (and what it changes), or all
        but S3 (``""``). A ``/moto-api/`` mutation (reset...) may have changed anything: S3 too, and
        the key records of buckets it dropped, which no key store was told of."""
        from scones.emulator.persistence import s3_objects
        from scones.emulator.persistence.backends import modules_of

        if service == "moto_api":
            from moto.s3.models import s3_backends

            written = self._files.save()
            s3_objects.forget_dropped_buckets(s3_backends)
            return written
        return self._files.save(include_s3=False, modules=modules_of(service))

    def _save_periodically(self) -> None:
        from scones.emulator.persistence import changes
        from scones.emulator.persistence.requests import ACTIVITY

        seen, last_active = (-1, -1), time.monotonic()
        while not self._stop.wait(BACKGROUND_SECONDS):
            # What changes without a request (logs of an asynchronous Invoke, an execution's
            # history, a job's progress) follows requests: snapshot while there were some lately.
            now, activity = time.monotonic(), (ACTIVITY.count, changes.generation())
            if activity != seen:
                seen, last_active = activity, now
            elif now - last_active > QUIET_SECONDS:
                continue
            try:
                self._files.save()
            except Exception:  # a failed background snapshot is retried; the request path raises its own
                log.exception("could not write the emulator's state to %s", self.state.root)

    def save(self) -> int:
        return self._files.save() if self._files is not None else 0

    def close(self) -> None:
        self._stop.set()
        if self._saver is not None:
            self._saver.join(timeout=30)
        self.save()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None


def _announce_execution_ends() -> None:
    """A Step Functions execution's end (moto's interpreter sets it) is a ``changes.background_change``."""
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    from scones.emulator.persistence.changes import background_change

    reflect = BaseExecutionWorkerCommunication._reflect_execution_status
    if getattr(reflect, "__wrapped__", None) is not None:
        return

    def reflect_and_keep(self: BaseExecutionWorkerCommunication) -> None:
        with background_change():
            reflect(self)

    reflect_and_keep.__wrapped__ = reflect  # type: ignore[attr-defined]
    BaseExecutionWorkerCommunication._reflect_execution_status = reflect_and_keep  # type: ignore[method-assign]
