"""Every point where this plug-in touches moto 5.2.5, in one place, checked before use.

moto keeps one ``BackendDict`` per service; every module that needs a service's backend
(its ``responses.py``, CloudFormation, ``/moto-api/reset``, the tagging API) reads that same
object, which builds a backend per account and region from its ``.backend`` class on first
use. So the whole plug-in is installed by pointing two ``.backend`` attributes at our
subclasses (``install_backends``). Their module names then pick the URL maps, because moto
finds a backend's routes in the ``urls`` module beside its ``models`` module
(``BaseBackend._url_module``): our ``models.py`` sits beside our ``urls.py``, which routes
to our response classes.

The other seams:

- ``BaseResponse.use_raw_body``: moto decodes every request body as UTF-8 unless a response
  class sets this, which is why a PNG sent to InvokeEndpoint answered HTTP 500.
- ``moto.moto_api._internal.urls.url_paths``: the ``/moto-api/...`` routes, read when the
  control app is first built; ours are added before the server answers.
- ``s3_backends`` and ``logs_backends``: the compute reads and writes S3 objects and log
  events in-process, as moto's own Batch and SageMaker-runtime backends do.

``check_seams()`` fails loudly, naming what moved, when a moto upgrade changes any of this;
``install()`` calls it first and ``tests/emulator_sagemaker/test_seams.py`` runs it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from scones.emulator._seams import MOTO_VERSION, SeamMoved
from scones.emulator._seams import parameters as _parameters

__all__ = ["MOTO_VERSION", "SeamMoved", "add_control_route", "check_seams", "install_backends"]


#: (owner, method, the parameters we rely on, in order)
_OVERRIDDEN_METHODS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "sagemaker",
        "create_training_job",
        (
            "training_job_name",
            "hyper_parameters",
            "algorithm_specification",
            "role_arn",
            "input_data_config",
            "output_data_config",
            "resource_config",
            "vpc_config",
            "stopping_condition",
            "tags",
            "enable_network_isolation",
            "enable_inter_container_traffic_encryption",
            "enable_managed_spot_training",
            "checkpoint_config",
            "debug_hook_config",
            "debug_rule_configurations",
            "tensor_board_output_config",
            "experiment_config",
        ),
    ),
    (
        "sagemaker",
        "create_endpoint_config",
        (
            "endpoint_config_name",
            "production_variants",
            "data_capture_config",
            "async_inference_config",
            "tags",
            "kms_key_id",
        ),
    ),
    ("sagemaker", "create_endpoint", ("endpoint_name", "endpoint_config_name", "tags")),
    ("sagemaker", "describe_endpoint", ("endpoint_name",)),
    ("sagemaker", "delete_endpoint", ("endpoint_name",)),
    ("sagemaker", "describe_training_job", ("training_job_name",)),
    (
        "sagemaker",
        "create_transform_job",
        (
            "transform_job_name",
            "model_name",
            "max_concurrent_transforms",
            "model_client_config",
            "max_payload_in_mb",
            "batch_strategy",
            "environment",
            "transform_input",
            "transform_output",
            "data_capture_config",
            "transform_resources",
            "data_processing",
            "tags",
            "experiment_config",
        ),
    ),
    (
        "sagemaker",
        "create_processing_job",
        (
            "app_specification",
            "experiment_config",
            "network_config",
            "processing_inputs",
            "processing_job_name",
            "processing_output_config",
            "role_arn",
            "tags",
            "stopping_condition",
        ),
    ),
    ("sagemaker", "stop_processing_job", ("processing_job_name",)),
    ("sagemaker", "update_endpoint_weights_and_capacities", ("endpoint_name", "desired_weights_and_capacities")),
    (
        "sagemaker",
        "create_hyper_parameter_tuning_job",
        (
            "hyper_parameter_tuning_job_name",
            "hyper_parameter_tuning_job_config",
            "training_job_definition",
            "training_job_definitions",
            "warm_start_config",
            "tags",
            "autotune",
        ),
    ),
    ("sagemaker-runtime", "invoke_endpoint", ("endpoint_name", "unique_repr")),
)


def _backend_dicts() -> dict[str, Any]:
    from moto.sagemaker.models import sagemaker_backends
    from moto.sagemakerruntime.models import sagemakerruntime_backends

    return {"sagemaker": sagemaker_backends, "sagemaker-runtime": sagemakerruntime_backends}


def check_seams() -> None:
    """Raise :class:`SeamMoved` naming every seam that is not where this plug-in expects it."""
    import moto
    from moto.core.base_backend import BackendDict, BaseBackend
    from moto.core.responses import BaseResponse
    from moto.logs.models import LogsBackend
    from moto.moto_api._internal import urls as moto_api_urls
    from moto.s3.models import S3Backend
    from moto.sagemaker.models import (
        FakeEndpoint,
        FakeEndpointConfig,
        FakeTrainingJob,
        FakeTransformJob,
        HyperParameterTuningJob,
        SageMakerModelBackend,
    )
    from moto.sagemaker.responses import SageMakerResponse
    from moto.sagemakerruntime.models import SageMakerRuntimeBackend
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    problems: list[str] = []
    if moto.__version__ != MOTO_VERSION:
        problems.append(f"moto is {moto.__version__}; these seams were read from {MOTO_VERSION}")
    expected_backends = {"sagemaker": SageMakerModelBackend, "sagemaker-runtime": SageMakerRuntimeBackend}
    for service, backend_dict in _backend_dicts().items():
        if not isinstance(backend_dict, BackendDict) or not hasattr(backend_dict, "backend"):
            problems.append(f"{service}: the module-level backends object is no longer a BackendDict with .backend")
        elif not issubclass(backend_dict.backend, expected_backends[service]):
            problems.append(f"{service}: BackendDict.backend is {backend_dict.backend!r}")
    owners = {"sagemaker": SageMakerModelBackend, "sagemaker-runtime": SageMakerRuntimeBackend}
    for service, method, params in _OVERRIDDEN_METHODS:
        func = getattr(owners[service], method, None)
        if func is None:
            problems.append(f"{owners[service].__name__}.{method} is gone")
        elif tuple(_parameters(func)[: len(params)]) != params:
            problems.append(f"{owners[service].__name__}.{method}{inspect.signature(func)} changed; expected {params}")
    if "use_raw_body" not in vars(BaseResponse):
        problems.append("BaseResponse.use_raw_body is gone: binary bodies would be decoded as UTF-8 again")
    if "setup_class" not in vars(BaseResponse) or "use_raw_body" not in _parameters(BaseResponse.setup_class):
        problems.append("BaseResponse.setup_class no longer takes use_raw_body")
    url_module = getattr(BaseBackend, "_url_module", None)
    if not isinstance(url_module, property):
        problems.append("BaseBackend._url_module is gone: our urls.py would not be found")
    if not isinstance(getattr(moto_api_urls, "url_paths", None), dict):
        problems.append("moto.moto_api._internal.urls.url_paths is no longer a dict")
    for cls, attrs in (
        (FakeTrainingJob, ("response_object",)),
        (FakeEndpoint, ("response_object", "_process_production_variants")),
        (FakeEndpointConfig, ("validate_instance_type",)),
        (FakeTransformJob, ("response_object", "camelCase")),
        (HyperParameterTuningJob, ("describe", "summary")),
        (SageMakerResponse, ("sagemaker_backend", "describe_endpoint", "call_action", "serialized", "_get_action")),
        (SageMakerRuntimeResponse, ("sagemakerruntime_backend", "invoke_endpoint")),
        (S3Backend, ("get_bucket", "get_object", "put_object", "list_objects")),
        (LogsBackend, ("ensure_log_group", "ensure_log_stream", "put_log_events")),
    ):
        problems += [f"{cls.__name__}.{a} is gone" for a in attrs if not hasattr(cls, a)]
    backend = SageMakerModelBackend("us-east-1", "123456789012")
    for attribute in (
        "_models",
        "training_jobs",
        "transform_jobs",
        "processing_jobs",
        "hyper_parameter_tuning_jobs",
        "endpoints",
    ):
        if not isinstance(getattr(backend, attribute, None), dict):
            problems.append(f"SageMakerModelBackend().{attribute} is no longer a dict of resources by name")
    for action, method in (
        ("UpdateEndpoint", "update_endpoint"),
        ("StopTrainingJob", "stop_training_job"),
        ("ListTrainingJobsForHyperParameterTuningJob", "list_training_jobs_for_hyper_parameter_tuning_job"),
        ("StopTransformJob", "stop_transform_job"),
        ("StopHyperParameterTuningJob", "stop_hyper_parameter_tuning_job"),
    ):
        if hasattr(SageMakerResponse, method):
            problems.append(f"moto now implements {action}: review responses.py, ours may be redundant")
    if problems:
        raise SeamMoved(
            "the SageMaker plug-in no longer fits moto; review include/scones/emulator/sagemaker/ "
            "against moto's sagemaker and sagemakerruntime packages:\n  - " + "\n  - ".join(problems)
        )


def install_backends(sagemaker_backend: type, runtime_backend: type) -> None:
    """Make every ``sagemaker_backends[account][region]`` lookup build our subclasses.

    Backends already built (by a request served before install) are dropped, so none of
    moto's plain ones survive.
    """
    for service, backend_dict in _backend_dicts().items():
        backend_dict.backend = sagemaker_backend if service == "sagemaker" else runtime_backend
        backend_dict.clear()


def add_control_route(path: str, handler: Callable[..., Any]) -> None:
    """Serve ``handler(request, full_url, headers)`` at ``/moto-api/<path>``."""
    from moto.moto_api._internal import urls as moto_api_urls

    moto_api_urls.url_paths["{0}/moto-api/" + path] = handler


def s3_backend(account_id: str, partition: str = "aws") -> Any:
    """moto's S3 backend of one account (buckets of other accounts resolve through it)."""
    from moto.s3.models import s3_backends

    return s3_backends[account_id][partition]


def logs_backend(account_id: str, region: str) -> Any:
    from moto.logs.models import logs_backends

    return logs_backends[account_id][region]
