"""Test accuracy of the emulator's image-classification training on the shared CIFAR-100 subset.

Starts ``scones local-aws``, writes the 1000 train and 200 test images of
``../shared/data/cifar-100-python-bikes.tar.gz`` to its S3 in the layout of
``docs/dataset-layout.md`` (the test split is the validation channel, as in the pipeline),
runs a CreateTrainingJob with the pipeline's default hyperparameters, deploys the model
to an endpoint and classifies each of the 200 test images through InvokeEndpoint.
Prints the training time, then, last, ``accuracy: <x>``.

    .venv/bin/python benchmarks/accuracy.py [--tarball PATH] [--epochs 30] [--learning-rate 0.001]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tests' tarball reader and S3 writer (no dependency on scones.etl)

from tests.emulator_sagemaker.cifar_subset import channels, png, read_split, write_channel  # noqa: E402 - after the sys.path line above

IMAGE = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"
ROLE = "arn:aws:iam::123456789012:role/scones-benchmark"
BUCKET = "scones-benchmark"
PREFIX = "datasets/cifar100-vehicles"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tarball", type=Path, default=ROOT.parent / "shared" / "data" / "cifar-100-python-bikes.tar.gz"
    )
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--learning-rate", type=float, default=0.001)
    parser.add_argument("--mini-batch-size", type=int, default=32)
    args = parser.parse_args()

    from scones.emulator import EmulatorProcess

    train, test = read_split(args.tarball, "train"), read_split(args.tarball, "test")
    with EmulatorProcess() as emulator:
        session = emulator.session()
        s3, sm, runtime = session.client("s3"), session.client("sagemaker"), session.client("sagemaker-runtime")
        s3.create_bucket(Bucket=BUCKET)
        write_channel(s3, BUCKET, PREFIX, "train", train)
        write_channel(s3, BUCKET, PREFIX, "validation", test)

        hyperparameters = {
            "num_classes": "2",
            "num_training_samples": str(len(train.labels)),
            "image_shape": "3,32,32",
            "epochs": str(args.epochs),
            "learning_rate": str(args.learning_rate),
            "mini_batch_size": str(args.mini_batch_size),
        }
        started = time.monotonic()
        sm.create_training_job(
            TrainingJobName="benchmark",
            AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
            RoleArn=ROLE,
            InputDataConfig=channels(BUCKET, PREFIX),
            OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/models/"},
            ResourceConfig={"InstanceType": "ml.p3.2xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
            StoppingCondition={"MaxRuntimeInSeconds": 3600},
            HyperParameters=hyperparameters,
        )
        sm.get_waiter("training_job_completed_or_stopped").wait(
            TrainingJobName="benchmark", WaiterConfig={"Delay": 1, "MaxAttempts": 1200}
        )
        wall = time.monotonic() - started
        job = sm.describe_training_job(TrainingJobName="benchmark")
        if job["TrainingJobStatus"] != "Completed":
            print(f"training failed: {job.get('FailureReason')}", file=sys.stderr)
            return 1
        metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
        print(
            f"training job: {wall:.1f} s wall clock ({job['TrainingTimeInSeconds']} s TrainingTimeInSeconds), "
            f"{len(train.labels)} images, {args.epochs} epochs"
        )
        print(f"final metrics: {json.dumps(metrics)}")

        sm.create_model(
            ModelName="benchmark",
            ExecutionRoleArn=ROLE,
            PrimaryContainer={"Image": IMAGE, "ModelDataUrl": job["ModelArtifacts"]["S3ModelArtifacts"]},
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
        sm.get_waiter("endpoint_in_service").wait(EndpointName="benchmark", WaiterConfig={"Delay": 1})
        correct, confidences = 0, []
        for image, label in zip(test.images, test.labels, strict=True):
            answer = runtime.invoke_endpoint(EndpointName="benchmark", ContentType="image/png", Body=png(image))
            probabilities = json.loads(answer["Body"].read())
            correct += int(probabilities.index(max(probabilities)) == label)
            confidences.append(max(probabilities))
        print(
            f"mean confidence: {sum(confidences) / len(confidences):.3f}; "
            f"share >= 0.93: {sum(c >= 0.93 for c in confidences) / len(confidences):.2f}"
        )
    print(f"accuracy: {correct / len(test.labels):.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
