"""The moto seams the plug-in patches are still where it expects them (moto pinned to 5.2.5)."""

from __future__ import annotations

import inspect

import pytest
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemakerruntime.models import SageMakerRuntimeBackend

from scones.emulator.sagemaker import seams
from scones.emulator.sagemaker.models import SageMakerEmulatorBackend
from scones.emulator.sagemaker.runtime.models import SageMakerRuntimeEmulatorBackend


def test_every_seam_is_where_the_plug_in_expects_it() -> None:
    seams.check_seams()  # raises SeamMoved, listing what moved


def test_a_moved_method_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    def create_endpoint(self, name, config_name, tags):
        return None

    monkeypatch.setattr(SageMakerModelBackend, "create_endpoint", create_endpoint)
    with pytest.raises(seams.SeamMoved, match=r"create_endpoint.*changed"):
        seams.check_seams()


def test_a_moto_upgrade_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    import moto

    monkeypatch.setattr(moto, "__version__", "5.3.0")
    with pytest.raises(seams.SeamMoved, match="5.3.0"):
        seams.check_seams()


@pytest.mark.parametrize(
    ("method", "action"),
    [
        ("update_endpoint", "UpdateEndpoint"),
        ("stop_training_job", "StopTrainingJob"),
        ("list_training_jobs_for_hyper_parameter_tuning_job", "ListTrainingJobsForHyperParameterTuningJob"),
        ("stop_transform_job", "StopTransformJob"),
        ("stop_hyper_parameter_tuning_job", "StopHyperParameterTuningJob"),
    ],
)
def test_moto_implementing_an_action_we_add_is_flagged(
    monkeypatch: pytest.MonkeyPatch, method: str, action: str
) -> None:
    from moto.sagemaker.responses import SageMakerResponse

    monkeypatch.setattr(SageMakerResponse, method, lambda self: None, raising=False)
    with pytest.raises(seams.SeamMoved, match=action):
        seams.check_seams()


def test_our_backends_find_our_routes() -> None:
    # moto resolves a backend's URL map from the module beside its class's models module.
    assert (
        SageMakerEmulatorBackend("us-east-1", "123456789012")._url_module.__name__ == "scones.emulator.sagemaker.urls"
    )
    runtime = SageMakerRuntimeEmulatorBackend("us-east-1", "123456789012")
    assert runtime._url_module.__name__ == "scones.emulator.sagemaker.runtime.urls"
    assert set(runtime.url_paths) == set(SageMakerRuntimeBackend("us-east-1", "123456789012").url_paths)


def test_overrides_keep_moto_s_keyword_interface() -> None:
    # moto's responses call these with keyword arguments: ours must accept the same names.
    for name in ("create_training_job", "create_endpoint_config"):
        ours = inspect.signature(getattr(SageMakerEmulatorBackend, name))
        assert any(p.kind is p.VAR_KEYWORD for p in ours.parameters.values()), name
    ours = list(inspect.signature(SageMakerEmulatorBackend.create_endpoint).parameters)
    assert ours == list(inspect.signature(SageMakerModelBackend.create_endpoint).parameters)


def test_the_running_emulator_uses_the_plug_in(emulator) -> None:
    import requests

    assert "local AWS ready" in "\n".join(emulator.output)
    answer = requests.post(f"{emulator.endpoint_url}/moto-api/sagemaker/capture/flush", timeout=10)
    assert answer.status_code == 200 and set(answer.json()) == {"files", "records", "sampled", "captured"}
    assert requests.get(f"{emulator.endpoint_url}/moto-api/sagemaker/capture/flush", timeout=10).status_code == 405
