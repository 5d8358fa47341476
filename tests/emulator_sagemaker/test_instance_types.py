"""CreateEndpointConfig's instance type check takes the whole string, nothing after it."""

from __future__ import annotations

import pytest

from scones.emulator.sagemaker.exceptions import ValidationError
from scones.emulator.sagemaker.models import EmulatedEndpointConfig


@pytest.mark.parametrize("instance_type", ["ml.m5.large", "ml.c6i.2xlarge", "ml.t2.medium"])
def test_an_instance_type_sagemaker_offers_is_accepted(instance_type: str) -> None:
    EmulatedEndpointConfig.validate_instance_type(None, instance_type)  # type: ignore[arg-type]


@pytest.mark.parametrize("instance_type", ["ml.m5.large\n", "ml.m5.large\nx", " ml.m5.large", "ml.m5.largest", ""])
def test_anything_around_an_instance_type_is_refused(instance_type: str) -> None:
    with pytest.raises(ValidationError, match="instanceType"):
        EmulatedEndpointConfig.validate_instance_type(None, instance_type)  # type: ignore[arg-type]
