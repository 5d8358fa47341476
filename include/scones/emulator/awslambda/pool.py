"""Warm workers per function version, and the bound on how many invocations run at once.

As Lambda does, an invocation takes an idle execution environment of the same function
version and configuration if there is one (warm start), else starts a new one (cold start);
a change of code or configuration retires the old environments. At most ``max_concurrency``
invocations run at once (see ``_config.py``); the rest wait for a slot.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from scones.emulator.awslambda import _config
from scones.emulator.awslambda.code_cache import CodeCache
from scones.emulator.awslambda.function_spec import FunctionSpec
from scones.emulator.awslambda.worker import Outcome, Worker


class ConcurrencyLimit:
    """A semaphore whose size is read from a setting each time, so it can change while running."""

    def __init__(self, limit: Callable[[], int]) -> None:
        self._limit = limit
        self._active = 0
        self._changed = threading.Condition()

    def __enter__(self) -> None:
        with self._changed:
            # Re-check now and then: a raised limit wakes nobody up.
            while self._active >= self._limit():
                self._changed.wait(0.5)
            self._active += 1

    def __exit__(self, *exc: object) -> None:
        with self._changed:
            self._active -= 1
            self._changed.notify()


@dataclass
class _Environments:
    """The idle workers of one function version with one fingerprint."""

    fingerprint: str
    idle: list[Worker] = field(default_factory=list)
    retired: bool = False


class WorkerPool:
    """Runs invocations on warm workers; the one object the Lambda backend talks to."""

    def __init__(self, code_cache: CodeCache | None = None, limit: ConcurrencyLimit | None = None) -> None:
        self.code_cache = code_cache or CodeCache()
        self.limit = limit or ConcurrencyLimit(_config.max_concurrency)
        self._functions: dict[str, _Environments] = {}  # by function ARN (qualified for a version)
        self._lock = threading.Lock()
        self._reaper: threading.Thread | None = None

    def invoke(
        self, spec: FunctionSpec, request_id: str, event: str, invoked_arn: str, client_context: object = None
    ) -> tuple[Outcome, str]:
        """Run one invocation; return its outcome and the log stream of the worker that ran it."""
        with self.limit:
            environments, worker = self._checkout(spec)
            if worker is None:
                task_root = self.code_cache.task_root(spec.function_name, spec.code_digest, spec.code)
                log_path = self.code_cache.scratch_file(f"{spec.function_name}-")
                worker = Worker(spec, task_root, log_path, _config.endpoint_url())
                failed = worker.start(request_id)
                if failed is not None:  # the handler could not be imported: nothing to keep
                    return failed, worker.log_stream
            try:
                outcome = worker.invoke(request_id, event, invoked_arn, client_context)
            except BaseException:
                worker.stop()
                raise
            self._checkin(environments, worker)
            return outcome, worker.log_stream

    def _checkout(self, spec: FunctionSpec) -> tuple[_Environments, Worker | None]:
        with self._lock:
            self._start_reaper()
            environments = self._functions.get(spec.function_arn)
            if environments is None or environments.fingerprint != spec.fingerprint:
                if environments is not None:
                    self._retire(environments)
                environments = self._functions[spec.function_arn] = _Environments(spec.fingerprint)
            # Most recently used first: its caches are the warmest, older ones may idle out.
            # One that died while idle (the OOM killer, a crash in a C extension) is let go:
            # the request must not fail for a handler that never ran.
            worker, dead = None, []
            while environments.idle and worker is None:
                candidate = environments.idle.pop()
                if candidate.alive:
                    worker = candidate
                else:
                    dead.append(candidate)
        for corpse in dead:
            corpse.stop()
        return environments, worker

    def _checkin(self, environments: _Environments, worker: Worker) -> None:
        with self._lock:
            if worker.alive and not environments.retired:
                environments.idle.append(worker)
                return
        worker.stop()

    def _retire(self, environments: _Environments) -> None:
        environments.retired = True
        for worker in environments.idle:
            worker.stop()
        environments.idle.clear()

    def stop_idle(self, older_than: float = 0.0) -> int:
        """Stop workers idle for ``older_than`` seconds or more; return how many."""
        cutoff = time.monotonic() - older_than
        with self._lock:
            stale = [w for env in self._functions.values() for w in env.idle if w.last_used <= cutoff]
            for environments in self._functions.values():
                environments.idle = [w for w in environments.idle if w.last_used > cutoff]
        for worker in stale:
            worker.stop()
        return len(stale)

    def forget(self, function_arn: str) -> None:
        """Stop the workers of a function, all its versions included (it was deleted).

        An ARN ending in ``function:`` stops every function of that account and region.
        """
        with self._lock:
            doomed = [
                arn
                for arn in self._functions
                if arn == function_arn
                or arn.startswith(function_arn if function_arn.endswith(":") else f"{function_arn}:")
            ]
            for arn in doomed:
                self._retire(self._functions.pop(arn))

    def shutdown(self) -> None:
        """Stop every worker and remove the unzipped code (the emulator is exiting)."""
        with self._lock:
            for environments in self._functions.values():
                self._retire(environments)
            self._functions.clear()
        self.code_cache.remove()

    def _start_reaper(self) -> None:
        if self._reaper is None:
            self._reaper = threading.Thread(target=self._reap, name="lambda-idle-reaper", daemon=True)
            self._reaper.start()

    def _reap(self) -> None:
        while True:
            try:
                idle = _config.idle_seconds()
            except ValueError:  # a bad setting must not end the reaper: keep the default
                idle = _config.DEFAULT_IDLE_SECONDS
            time.sleep(min(max(idle / 4, 1.0), 30.0))
            self.stop_idle(older_than=idle)
