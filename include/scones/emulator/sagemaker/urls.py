"""Routes of the SageMaker API to our responses.

moto looks for a backend's routes in the ``urls`` module beside its ``models`` module
(``BaseBackend._url_module``), so this file is found because ``SageMakerEmulatorBackend``
lives in ``scones.emulator.sagemaker.models``.
"""

from moto.sagemaker.urls import url_bases as url_bases

from scones.emulator.sagemaker.responses import SageMakerEmulatorResponse

url_paths = {
    "{0}/$": SageMakerEmulatorResponse.dispatch,
}
