"""The SNS topic the state machines publish failures to."""

from __future__ import annotations

from typing import Any


def ensure_topic(sns: Any, name: str) -> str:
    """The topic's ARN. CreateTopic is idempotent: it returns the existing topic's ARN.

    No tags here: CreateTopic on an existing topic with different tags is an error.
    """
    return sns.create_topic(Name=name)["TopicArn"]
