"""Changes made outside a request (a training job, an endpoint, an execution ending), kept before
a client can rely on them.

A job polled ``Completed`` and then lost to a kill -9 would come back ``Failed``: the
background snapshot runs every 2 s. So the emulator's own code announces such a change:

.. sourcecode:: python

    with background_change():  # while it is made, a read saves before answering
        job.training_job_status = "Completed"
    # once made: the generation bumped, and saved at once from the thread that made it

A read that may show the change (one is in progress, or the generation is newer than what
the last complete save started from) saves before answering (``requests.install_wsgi_hook``):
its save starts after its answer was computed, so it holds whatever the answer showed.
Without persistence (``--ephemeral``) these are counters and nothing more.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator

log = logging.getLogger(__name__)

_lock = threading.Lock()
_generation = 0  # bumped once each change made outside a request is made
_in_progress = 0  # changes being made (perhaps already visible)
_saver: Callable[[], object] | None = None


def generation() -> int:
    return _generation


def in_progress() -> bool:
    return _in_progress > 0


def set_saver(saver: Callable[[], object] | None) -> None:
    global _saver
    _saver = saver


@contextlib.contextmanager
def background_change() -> Iterator[None]:
    global _in_progress, _generation
    with _lock:
        _in_progress += 1
    try:
        yield
    finally:
        with _lock:
            _in_progress -= 1
            _generation += 1
        if _saver is not None:
            try:
                _saver()
            except Exception:  # the background snapshot and the next read retry it
                log.exception("could not write the emulator's state after a background change")
