"""moto's Lambda URLs, answered by ``LocalLambdaResponse``.

moto finds a backend's URLs next to its class (``BaseBackend._url_module``: ``<package>.models``
-> ``<package>.urls``), so the server takes the Lambda API from here.
"""

from moto.awslambda.urls import url_bases
from moto.awslambda.urls import url_paths as _moto_url_paths

from scones.emulator.awslambda.responses import LocalLambdaResponse

__all__ = ["url_bases", "url_paths"]

url_paths = {path: LocalLambdaResponse.dispatch for path in _moto_url_paths}
