"""``scones classify-backlog``: a prefix of images in, one predictions file out, through a real batch transform."""

from __future__ import annotations

import json

import pytest

from scones.cli import main
from scones.deployment.record import Deployment, write_current
from tests.emulator_sagemaker.conftest import unique

CLASSES = ["bicycle", "motorcycle"]


@pytest.fixture
def cli_env(emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator.endpoint_url)


def read_lines(s3, uri: str) -> list[dict]:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return [json.loads(line) for line in s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode().splitlines()]


def test_the_serving_model_classifies_every_image_into_one_file(
    cli_env, monkeypatch, capsys, s3, small_dataset, model_name, trained_job
) -> None:
    bucket = small_dataset.bucket
    models_prefix = f"models-{unique('backlog')}"
    monkeypatch.setenv("SCONES_MODELS_PREFIX", models_prefix)
    record = Deployment(
        endpoint_name="e",
        training_job=trained_job["TrainingJobName"],
        model_name=model_name,
        endpoint_config="c",
        model_data_url="s3://x/y",
        validation_accuracy=0.9,
        classes=CLASSES,
        deployed_at="2026-01-01T00:00:00Z",
    )
    write_current(s3, bucket, models_prefix, record)  # the model classify-backlog uses by default
    output = f"s3://{bucket}/predictions/{unique('backlog')}.jsonl"
    source = f"s3://{bucket}/{small_dataset.prefix}/validation/"

    code = main(["classify-backlog", "--input", source, "--output", output, "--bucket", bucket, "--poll", "0.5"])

    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["model"] == model_name
    validation = small_dataset.validation
    assert summary["images"] == len(validation.labels) and summary["predictions"] == output
    lines = read_lines(s3, output)
    expected = sorted(
        f"s3://{bucket}/{small_dataset.prefix}/validation/{CLASSES[label]}/{file}"
        for label, file in zip(validation.labels, validation.filenames, strict=True)
    )
    assert [line["image"] for line in lines] == expected  # one line per image, sorted
    assert sum(summary["per_class"].values()) == len(lines)
    correct = sum(line["predicted_class"] == line["image"].split("/")[-2] for line in lines)
    assert correct / len(lines) >= 0.6
    assert all(line["confidence"] == max(line["probabilities"].values()) for line in lines)

    # The predictions file is never overwritten.
    assert (
        main(
            [
                "classify-backlog",
                "--input",
                source,
                "--output",
                output,
                "--model",
                model_name,
                "--classes",
                ",".join(CLASSES),
            ]
        )
        == 1
    )
    assert "never overwritten" in capsys.readouterr().err


def test_without_a_deployment_record_it_says_what_to_do(cli_env, capsys, s3, small_dataset) -> None:
    # A bucket of its own: other tests of this emulator session record deployments in the shared one.
    empty = unique("no-record")
    s3.create_bucket(Bucket=empty)
    code = main(
        [
            "classify-backlog",
            "--input",
            f"s3://{small_dataset.bucket}/x/",
            "--output",
            f"s3://{small_dataset.bucket}/p.jsonl",
            "--bucket",
            empty,
        ]
    )
    assert code == 2
    assert "no deployment recorded" in capsys.readouterr().err


def test_a_failed_transform_fails_the_command_with_its_reason(cli_env, capsys, sm, small_dataset, trained_job) -> None:
    model = unique("knn-backlog")
    sm.create_model(
        ModelName=model,
        ExecutionRoleArn="arn:aws:iam::123456789012:role/x",
        PrimaryContainer={
            "Image": "382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1",
            "ModelDataUrl": trained_job["ModelArtifacts"]["S3ModelArtifacts"],
        },
    )
    code = main(
        [
            "classify-backlog",
            "--input",
            f"s3://{small_dataset.bucket}/{small_dataset.prefix}/validation/",
            "--output",
            f"s3://{small_dataset.bucket}/predictions/{unique('knn')}.jsonl",
            "--model",
            model,
            "--classes",
            ",".join(CLASSES),
            "--poll",
            "0.5",
        ]
    )
    assert code == 1
    assert "ended Failed" in capsys.readouterr().err


def test_a_predictions_file_written_meanwhile_is_not_overwritten_and_runs_in_one_second_do_not_collide(
    monkeypatch,
    sagemaker_session,
    s3,
    small_dataset,
    model_name,
) -> None:
    from scones.backlog import classify
    from scones.errors import ConfigurationError

    monkeypatch.setattr(classify.time, "strftime", lambda *_: "20260101-000000")  # every run in the same second
    bucket, source = small_dataset.bucket, f"s3://{small_dataset.bucket}/{small_dataset.prefix}/validation/"
    taken = f"predictions/{unique('taken')}.jsonl"
    real_wait = classify._wait

    def someone_writes_meanwhile(*args, **kwargs) -> None:
        real_wait(*args, **kwargs)
        s3.put_object(Bucket=bucket, Key=taken, Body=b"theirs\n")  # after the check, before the write

    monkeypatch.setattr(classify, "_wait", someone_writes_meanwhile)
    with pytest.raises(ConfigurationError, match="written by someone else"):
        classify.classify_backlog(sagemaker_session, source, f"s3://{bucket}/{taken}", model_name, CLASSES, poll=0.5)
    assert s3.get_object(Bucket=bucket, Key=taken)["Body"].read() == b"theirs\n"

    monkeypatch.setattr(classify, "_wait", real_wait)
    free = f"s3://{bucket}/predictions/{unique('free')}.jsonl"
    report = classify.classify_backlog(sagemaker_session, source, free, model_name, CLASSES, poll=0.5)
    assert report.images == len(small_dataset.validation.labels)  # its own job, though started "in the same second"
