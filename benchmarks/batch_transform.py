"""Batch transform on the emulator: images per second and accuracy of ``scones classify-backlog``.

Starts ``scones local-aws``, writes the shared subset's 1000 train and 200 test images to its
S3, trains the emulator's image-classification model (``--epochs``, 5 by default: what is
measured here is the transform, not the model), then classifies the 1000 train images with
``scones.backlog.classify_backlog`` (one batch transform job) at each ``--concurrency``
(MaxConcurrentTransforms), and the same images one InvokeEndpoint request at a time for
comparison. Prints one line per run: images, seconds, images/s, and the share whose predicted
class is the label (on the images the model trained on: a check that the answers are the
model's, not a measure of the model; ``benchmarks/accuracy.py`` measures that).

    .venv/bin/python benchmarks/batch_transform.py [--epochs 5] [--concurrency 1 4]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.emulator_sagemaker.cifar_subset import CLASSES, channels, png, read_split, write_channel  # noqa: E402 - after the sys.path line above

IMAGE = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"
ROLE = "arn:aws:iam::123456789012:role/scones-benchmark"
BUCKET = "scones-benchmark"
PREFIX = "datasets/cifar100-vehicles"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tarball", type=Path, default=ROOT.parent / "shared" / "data" / "cifar-100-python-bikes.tar.gz"
    )
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()

    from scones.backlog.classify import classify_backlog
    from scones.emulator import EmulatorProcess

    train, test = read_split(args.tarball, "train"), read_split(args.tarball, "test")
    names = list(CLASSES.values())
    with EmulatorProcess() as emulator:
        session = emulator.session()
        s3, sm, runtime = session.client("s3"), session.client("sagemaker"), session.client("sagemaker-runtime")
        s3.create_bucket(Bucket=BUCKET)
        write_channel(s3, BUCKET, PREFIX, "train", train)
        write_channel(s3, BUCKET, PREFIX, "validation", test)
        sm.create_training_job(
            TrainingJobName="benchmark",
            RoleArn=ROLE,
            AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
            InputDataConfig=channels(BUCKET, PREFIX),
            OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/models/"},
            ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
            StoppingCondition={"MaxRuntimeInSeconds": 3600},
            HyperParameters={
                "num_classes": "2",
                "num_training_samples": str(len(train.labels)),
                "image_shape": "3,32,32",
                "epochs": str(args.epochs),
            },
        )
        sm.get_waiter("training_job_completed_or_stopped").wait(
            TrainingJobName="benchmark", WaiterConfig={"Delay": 1, "MaxAttempts": 600}
        )
        job = sm.describe_training_job(TrainingJobName="benchmark")
        sm.create_model(
            ModelName="benchmark",
            ExecutionRoleArn=ROLE,
            PrimaryContainer={"Image": IMAGE, "ModelDataUrl": job["ModelArtifacts"]["S3ModelArtifacts"]},
        )

        source = f"s3://{BUCKET}/{PREFIX}/train/"
        for concurrency in args.concurrency:
            started = time.monotonic()
            report = classify_backlog(
                session,
                source,
                f"s3://{BUCKET}/predictions/c{concurrency}.jsonl",
                "benchmark",
                names,
                max_concurrent=concurrency,
                poll=0.2,
            )
            seconds = time.monotonic() - started
            body = s3.get_object(Bucket=BUCKET, Key=f"predictions/c{concurrency}.jsonl")["Body"].read().decode()
            lines = [json.loads(line) for line in body.splitlines()]
            correct = sum(line["predicted_class"] == line["image"].split("/")[-2] for line in lines)
            described = sm.describe_transform_job(TransformJobName=report.transform_job)
            in_job = (described["TransformEndTime"] - described["TransformStartTime"]).total_seconds()
            print(
                f"batch transform, MaxConcurrentTransforms={concurrency}: {report.images} images in {seconds:.1f} s "
                f"({in_job:.1f} s in the job, the rest listing and reading the .out files), "
                f"{report.images / seconds:.0f} images/s, labels matched {correct / len(lines):.3f}"
            )

        sm.create_endpoint_config(
            EndpointConfigName="benchmark",
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "benchmark",
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                }
            ],
        )
        sm.create_endpoint(EndpointName="benchmark", EndpointConfigName="benchmark")
        sm.get_waiter("endpoint_in_service").wait(
            EndpointName="benchmark", WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
        bodies = [png(image) for image in train.images]
        started = time.monotonic()
        correct = 0
        for body, label in zip(bodies, train.labels, strict=True):
            probabilities = json.loads(
                runtime.invoke_endpoint(EndpointName="benchmark", ContentType="image/png", Body=body)["Body"].read()
            )
            correct += probabilities.index(max(probabilities)) == label
        seconds = time.monotonic() - started
        print(
            f"InvokeEndpoint, one request at a time: {len(bodies)} images in {seconds:.1f} s, "
            f"{len(bodies) / seconds:.0f} images/s, labels matched {correct / len(bodies):.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
