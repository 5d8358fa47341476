"""Routes of sagemaker-runtime to our response (found beside ``runtime/models.py``, see ``../urls.py``)."""

from moto.sagemakerruntime.urls import url_bases as url_bases

from scones.emulator.sagemaker.runtime.responses import SageMakerRuntimeEmulatorResponse

url_paths = {
    "{0}/endpoints/(?P<name>[^/]+)/async-invocations$": SageMakerRuntimeEmulatorResponse.dispatch,
    "{0}/endpoints/(?P<name>[^/]+)/invocations$": SageMakerRuntimeEmulatorResponse.dispatch,
}
