"""A local AWS: moto's server with the compute moto does not do plugged in at its seams.

Public surface::

    LocalAWS            start()/stop()/endpoint_url, as moto's ThreadedMotoServer
    EmulatorProcess     the same as a child process (tests, `scones demo`, benchmarks)
    PLUGINS             the modules whose ``install()`` swaps in our compute

Each plug-in is one subpackage (``sagemaker``, ``awslambda``, ``stepfunctions``) that
subclasses a moto backend and overrides the method where moto stops short, checks first that
moto's seams are where it expects them (its ``seams.py``), and classifies every operation moto
serves (its ``operations.py``); ``s3`` makes moto's conditional writes atomic and its
concurrent writes to one key safe; ``unsupported`` answers what moto does not implement with a
4xx. They are installed once, in the emulator's own process, before the server answers.
"""

from scones.emulator.process import LOCAL_CREDENTIALS, EmulatorProcess, EndpointSession, running_emulator
from scones.emulator.server import PLUGINS, LocalAWS, install_plugins

__all__ = [
    "LOCAL_CREDENTIALS",
    "PLUGINS",
    "EmulatorProcess",
    "EndpointSession",
    "LocalAWS",
    "install_plugins",
    "running_emulator",
]
