"""moto's Lambda URLs, unchanged.

moto finds a backend's URLs next to its class (``BaseBackend._url_module``: ``<package>.models``
-> ``<package>.urls``), so the package of ``LocalLambdaBackend`` needs this module.
"""

from moto.awslambda.urls import url_bases, url_paths

__all__ = ["url_bases", "url_paths"]
