"""The S3 contract: every key and prefix the project reads or writes, in one place.

The ETL, training, the smoke tests, ``scones traffic``, the deployment record, the monitor
and the IAM policy renderer take their keys from here; nothing else spells one.

Dataset layout (``docs/dataset-layout.md``)::

    <dataset prefix>/current.json                          the pointer: names the published version
    <dataset prefix>/versions/<version>/train/<class>/<file>.png
    <dataset prefix>/versions/<version>/validation/<class>/<file>.png
    <dataset prefix>/versions/<version>/train_lst/train.lst
    <dataset prefix>/versions/<version>/validation_lst/validation.lst
    <dataset prefix>/versions/<version>/labels.json        written last: the version is complete

A version is written once by one run and never changed; the pointer is the only object that
is ever overwritten, and only with a conditional write. A bucket written before versions
existed has ``train/``, ``validation/``, the manifests and ``labels.json`` directly under the
prefix: it is read as the version :data:`LEGACY_VERSION`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from scones.errors import ConfigurationError

if TYPE_CHECKING:
    from scones.settings import Settings

#: The pointer object, relative to the dataset prefix.
POINTER = "current.json"
#: Where the versions live, relative to the dataset prefix.
VERSIONS = "versions"
#: The version name of a dataset in the layout from before versions (files under the prefix).
LEGACY_VERSION = "legacy"
#: The four channels of a training job, each a folder of a version (SageMaker "lst" mode).
CHANNELS = ("train", "validation", "train_lst", "validation_lst")
#: CIFAR split -> the channel it feeds.
CHANNEL_OF_SPLIT = {"train": "train", "test": "validation"}
LABELS_FILE = "labels.json"
MANIFESTS = {channel: f"{channel}_lst/{channel}.lst" for channel in CHANNEL_OF_SPLIT.values()}
#: A version name: UTC time to the microsecond, then random hex (sorts by creation time).
VERSION_RE = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{8}\Z")  # \Z: "$" also matches before a final newline

MONITORING_PREFIX = "monitoring"  # the monitor's reports: <prefix>/<endpoint>/<yyyy-mm-dd>/


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> ``("bucket", "some/prefix")``."""
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc or not parsed.path.strip("/"):
        raise ConfigurationError(f"{uri!r} is not an s3://BUCKET/PREFIX URI")
    return parsed.netloc, parsed.path.strip("/")


@dataclass(frozen=True)
class DatasetLayout:
    """Keys of one dataset: ``DatasetLayout("bucket", "datasets/cifar100-vehicles")``."""

    bucket: str
    prefix: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefix", self.prefix.strip("/"))

    @classmethod
    def of(cls, settings: Settings) -> DatasetLayout:
        return cls(settings.bucket, settings.dataset_prefix)

    @classmethod
    def from_uri(cls, uri: str) -> DatasetLayout:
        return cls(*parse_s3_uri(uri))

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    @property
    def pointer_key(self) -> str:
        return f"{self.prefix}/{POINTER}"

    @property
    def versions_prefix(self) -> str:
        """``<prefix>/versions/``: list it with Delimiter="/" to see every version."""
        return f"{self.prefix}/{VERSIONS}/"

    def root(self, version: str) -> str:
        """The key prefix (no trailing slash) under which a version's files are."""
        if version == LEGACY_VERSION:
            return self.prefix
        if not VERSION_RE.match(version):
            raise ValueError(f"{version!r} is not a dataset version name")
        return f"{self.versions_prefix}{version}"

    def key(self, version: str, relative: str) -> str:
        """``key(v, "train/bicycle/x.png")`` -> ``<prefix>/versions/<v>/train/bicycle/x.png``."""
        return f"{self.root(version)}/{relative.lstrip('/')}"

    def labels_key(self, version: str) -> str:
        return self.key(version, LABELS_FILE)

    def manifest_key(self, version: str, channel: str) -> str:
        return self.key(version, MANIFESTS[channel])

    def channel_prefix(self, version: str, channel: str) -> str:
        """``<root>/validation/``: the images (or manifest) of one channel."""
        return self.key(version, channel) + "/"

    def version_uri(self, version: str) -> str:
        return f"s3://{self.bucket}/{self.root(version)}"

    def version_of_key(self, key: str) -> str | None:
        """The version a key under ``versions/`` belongs to, else None."""
        if not key.startswith(self.versions_prefix):
            return None
        name = key[len(self.versions_prefix) :].split("/", 1)[0]
        return name if VERSION_RE.match(name) else None


@dataclass(frozen=True)
class ModelsLayout:
    """Keys under the models prefix: training output and the deployment record."""

    bucket: str
    prefix: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefix", self.prefix.strip("/"))

    @classmethod
    def of(cls, settings: Settings) -> ModelsLayout:
        return cls(settings.bucket, settings.models_prefix)

    @property
    def training_output_uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}/training"

    @property
    def deployments_prefix(self) -> str:
        return f"{self.prefix}/deployments/"

    @property
    def current_deployment_key(self) -> str:
        return f"{self.deployments_prefix}current.json"

    @property
    def history_prefix(self) -> str:
        return f"{self.deployments_prefix}history/"

    def history_key(self, stamp: str, training_job: str) -> str:
        return f"{self.history_prefix}{stamp}-{training_job}.json"


def capture_prefix(settings: Settings) -> str:
    """Where the endpoint's data capture goes (``s3://<bucket>/<this>/<endpoint>/...``)."""
    return settings.data_capture_prefix.strip("/")


__all__ = [
    "CHANNELS",
    "CHANNEL_OF_SPLIT",
    "LABELS_FILE",
    "LEGACY_VERSION",
    "MANIFESTS",
    "MONITORING_PREFIX",
    "POINTER",
    "VERSIONS",
    "DatasetLayout",
    "ModelsLayout",
    "capture_prefix",
    "parse_s3_uri",
]
