"""The IAM role SageMaker assumes for training and hosting: reuse it, or create it."""

from __future__ import annotations

import json
from typing import Any

TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def bucket_access_policy(bucket: str, partition: str = "aws") -> dict[str, Any]:
    """Least privilege: the project's bucket, the algorithm's image, its logs and metrics.
    ``partition``: the role's (aws, aws-cn, aws-us-gov): a bucket ARN of another one matches nothing."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
                "Resource": [f"arn:{partition}:s3:::{bucket}", f"arn:{partition}:s3:::{bucket}/*"],
            },
            {
                "Effect": "Allow",
                "Action": [
                    "ecr:GetAuthorizationToken",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchCheckLayerAvailability",
                ],
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Action": [
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                    "cloudwatch:PutMetricData",
                ],
                "Resource": "*",
            },
        ],
    }


def ensure_sagemaker_role(iam: Any, role_name: str, bucket: str) -> str:
    """Return the role's ARN, creating the role if it does not exist; its inline policy is
    written every time, so it follows the configured bucket (an old bucket's policy would
    fail the job with a non-retryable "AccessDenied" on the new one)."""
    try:
        arn = iam.get_role(RoleName=role_name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        arn = iam.create_role(
            RoleName=role_name,
            AssumeRolePolicyDocument=json.dumps(TRUST_POLICY),
            Description="SageMaker execution role of the Scones Unlimited ML workflow",
        )["Role"]["Arn"]
    iam.put_role_policy(
        RoleName=role_name,
        PolicyName=f"{role_name}-bucket",
        PolicyDocument=json.dumps(bucket_access_policy(bucket, partition=arn.split(":")[1])),
    )
    return arn
