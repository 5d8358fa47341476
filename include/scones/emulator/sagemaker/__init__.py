"""SageMaker in the local emulator: jobs that train, transform and tune, endpoints that predict and capture.

The plug-in follows moto's own layout: ``models.py`` (``Fake*`` subclasses and
``SageMakerEmulatorBackend``), ``responses.py`` + ``urls.py`` (adds UpdateEndpoint, the
Stop* of training, transform and tuning, ListTrainingJobsForHyperParameterTuningJob, and
SageMaker's request validation), ``runtime/`` (sagemaker-runtime's InvokeEndpoint), ``exceptions.py``. The compute is in
modules of its own, each readable alone:

=================  =================================================================
``operations.py``  the rule per operation: computed, fails as AWS, bookkeeping, refused
``training.py``    one training job: channels and .lst manifests in, model.tar.gz out
``learner/``       the image classifier it trains (numpy; no moto, no S3)
``hosting.py``     the models an endpoint serves, loaded from their artifacts
``transform.py``   one batch transform job: images in, one .out per image
``tuning.py``      one tuning job: real training jobs per the strategy, the best picked
``capture.py``     data capture records in SageMaker's format, buffered to S3
``control.py``     ``/moto-api/sagemaker/...`` control endpoints (flush the capture)
``storage.py``     S3 objects, read and written in-process
``seams.py``       every moto internal we touch, checked against the pinned version
=================  =================================================================

``install()`` is called once in the emulator process before the server answers
(``scones.emulator.server.install_plugins``).
"""

from __future__ import annotations

import atexit

__all__ = ["install"]


def install() -> None:
    """Make moto's sagemaker and sagemaker-runtime services use this plug-in's backends."""
    from scones.emulator.sagemaker import seams

    seams.check_seams()  # before changing anything: a moved seam fails here, loudly

    from scones.emulator import unsupported
    from scones.emulator.sagemaker import operations
    from scones.emulator.sagemaker.capture import WRITER
    from scones.emulator.sagemaker.control import CAPTURE_FLUSH_PATH, capture_flush
    from scones.emulator.sagemaker.models import SageMakerEmulatorBackend
    from scones.emulator.sagemaker.runtime.models import SageMakerRuntimeEmulatorBackend

    unsupported.refuse("sagemaker", {action: operations.refusal(action) for action in operations.REFUSED})
    seams.install_backends(SageMakerEmulatorBackend, SageMakerRuntimeEmulatorBackend)
    seams.add_control_route(CAPTURE_FLUSH_PATH, capture_flush)
    WRITER.start()
    atexit.register(WRITER.flush)  # `scones local-aws` returns from main on SIGTERM/SIGINT
