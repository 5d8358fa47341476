"""botocore's packaged models, read and parsed once per process instead of once per session.

A new botocore session parses endpoints.json and each service model it uses again (JSON of up
to megabytes): 0.1-0.3 s of CPU for a session's first client. In the warm Airflow runner, where
every hook of every task makes a session, that was a sixth of the process's CPU (py-spy of the
train-and-deploy tests: 16 of 90 s).
"""

from __future__ import annotations


def share_data_loader() -> None:
    """One botocore data loader for every later session of this process (per ``data_path``).

    Idempotent. Installed where one process makes many sessions: the test processes (moto
    resets boto3's default session as each mock starts) and the warm Airflow runner of
    ``scones demo`` and the end-to-end tests (each Amazon provider hook makes its own session,
    several per task). The loader only reads botocore's packaged JSON; credentials,
    configuration and clients stay each session's own.

    Each session still gets its own copy of each service model (a pickle round trip, 8 times
    quicker than parsing the JSON): botocore edits a loaded model in place (an S3 client strips
    ``/{Bucket}`` from each operation's ``requestUri`` as the operation is first called), which
    is harmless within one session and wrong in the next one's, since a session that never made
    an S3 client (tests/emulator_s3/test_operations.py's walk of the S3 model) then reads the
    stripped URIs (tests/test_shared_botocore_loader.py).
    """
    import pickle

    import botocore.loaders
    import botocore.session

    if getattr(botocore.session.Session._register_data_loader, "shared", False):
        return

    class SearchPaths(list):
        def append(self, path: str) -> None:  # each boto3 Session adds its data folder: once is enough
            if path not in self:
                super().append(path)

    class SessionLoader:
        """A session's view of the shared loader: its own copy of each service's model (what
        botocore edits), made once, as botocore's own loader caches per session; the rest
        (endpoints, rule sets, paginators), which botocore only reads, shared as it is."""

        def __init__(self, shared: botocore.loaders.Loader, pickled: dict[tuple, bytes]) -> None:
            self._shared = shared
            self._pickled = pickled  # shared by every session: a parsed model, pickled once
            self._models: dict[tuple, object] = {}  # this session's copies

        def load_service_model(self, service_name: str, type_name: str, api_version: str | None = None) -> object:
            if type_name != "service-2":
                return self._shared.load_service_model(service_name, type_name, api_version)
            key = (service_name, type_name, api_version)
            if key not in self._models:
                if key not in self._pickled:
                    self._pickled[key] = pickle.dumps(self._shared.load_service_model(*key))
                self._models[key] = pickle.loads(self._pickled[key])
            return self._models[key]

        def __getattr__(self, name: str) -> object:
            return getattr(self._shared, name)

    loaders: dict[str | None, tuple[botocore.loaders.Loader, dict[tuple, bytes]]] = {}

    def register_data_loader(session: botocore.session.Session) -> None:
        def session_loader() -> SessionLoader:
            data_path = session.get_config_variable("data_path")
            if data_path not in loaders:
                loader = botocore.loaders.create_loader(data_path)
                loader._search_paths = SearchPaths(loader.search_paths)
                loaders[data_path] = (loader, {})
            return SessionLoader(*loaders[data_path])

        session._components.lazy_register_component("data_loader", session_loader)

    register_data_loader.shared = True  # type: ignore[attr-defined]
    botocore.session.Session._register_data_loader = register_data_loader
