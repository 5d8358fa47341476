"""Delete old models and endpoint configs, keeping the last N and never what is serving."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def _names(pages: Any, list_key: str, name_key: str, prefix: str) -> list[tuple[str, Any]]:
    found = []
    for page in pages:
        for item in page[list_key]:
            if item[name_key].startswith(prefix):
                found.append((item[name_key], item["CreationTime"]))
    return sorted(found, key=lambda pair: pair[1], reverse=True)  # newest first


def stale_versions(names_newest_first: list[str], keep: int, protected: set[str]) -> list[str]:
    """Names beyond the ``keep`` newest, minus the protected (serving) ones."""
    return [n for n in names_newest_first[keep:] if n not in protected]


def cleanup(sagemaker: Any, prefix: str, keep: int, endpoint_name: str) -> dict[str, list[str]]:
    """Delete endpoint configs then models named ``prefix*`` beyond the newest ``keep``.

    What the endpoint serves (its config and that config's models) is never deleted.
    """
    serving_config = sagemaker.describe_endpoint(EndpointName=endpoint_name)["EndpointConfigName"]
    variants = sagemaker.describe_endpoint_config(EndpointConfigName=serving_config)["ProductionVariants"]
    protected = {serving_config, *(v["ModelName"] for v in variants)}
    configs = _names(
        sagemaker.get_paginator("list_endpoint_configs").paginate(NameContains=prefix),
        "EndpointConfigs",
        "EndpointConfigName",
        prefix,
    )
    models = _names(sagemaker.get_paginator("list_models").paginate(NameContains=prefix), "Models", "ModelName", prefix)
    deleted: dict[str, list[str]] = {"endpoint_configs": [], "models": []}
    for name in stale_versions([n for n, _ in configs], keep, protected):
        sagemaker.delete_endpoint_config(EndpointConfigName=name)
        deleted["endpoint_configs"].append(name)
    for name in stale_versions([n for n, _ in models], keep, protected):
        sagemaker.delete_model(ModelName=name)
        deleted["models"].append(name)
    log.info("kept %d newest and the serving %s; deleted %s", keep, sorted(protected), deleted)
    return deleted
