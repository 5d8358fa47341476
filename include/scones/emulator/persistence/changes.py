"""Changes made outside a request (a training job, an endpoint, an execution ending), kept before
a client can rely on them.

A job polled ``Completed`` and then lost to a kill -9 would come back ``Failed``: the
background snapshot runs every 2 s. So the emulator's own code announces such a change:

.. sourcecode:: python

    with background_change():  # before the change is visible: reads that follow save first
        job.training_job_status = "Completed"
    # after it: saved at once, from the thread that made it

The generation is bumped *before* the change: a read that shows the change finds the state
unsaved and saves before answering (``requests.install_wsgi_hook``), whichever comes first.
Without persistence (``--ephemeral``) this is a counter and nothing more.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator

log = logging.getLogger(__name__)

_lock = threading.Lock()
_generation = 0  # bumped before every change made outside a request
_saver: Callable[[], object] | None = None


def generation() -> int:
    return _generation


def bump() -> int:
    global _generation
    with _lock:
        _generation += 1
        return _generation


def set_saver(saver: Callable[[], object] | None) -> None:
    global _saver
    _saver = saver


@contextlib.contextmanager
def background_change() -> Iterator[None]:
    bump()
    try:
        yield
    finally:
        if _saver is not None:
            try:
                _saver()
            except Exception:  # the background snapshot and the next read retry it
                log.exception("could not write the emulator's state after a background change")
