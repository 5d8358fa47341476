"""ETL of CIFAR-100 to SageMaker image-classification input in S3.

Public surface::

    fetch_archive(source, cache_dir)        extract: a verified local copy
    read_cifar_archive(path, label_ids)     the splits' rows, without extracting to disk
    resolve_classes(names)                  class names -> CIFAR fine label ids
    build_manifests / iter_image_files      transform: .lst manifests, PNG files
    stage / publish / run_etl               load: a new version, then one conditional pointer write
    publish_staged                          the DAG's publish: the pointer write, then the asset event's summary
"""

from scones.etl.cifar import CIFAR100_FINE_LABELS, read_cifar_archive
from scones.etl.extract import FetchedArchive, fetch_archive
from scones.etl.pipeline import EtlResult, parse_s3_uri, publish, publish_staged, run_etl, stage
from scones.etl.transform import build_manifests, iter_image_files, resolve_classes

__all__ = [
    "CIFAR100_FINE_LABELS",
    "EtlResult",
    "FetchedArchive",
    "build_manifests",
    "fetch_archive",
    "iter_image_files",
    "parse_s3_uri",
    "publish",
    "publish_staged",
    "read_cifar_archive",
    "resolve_classes",
    "run_etl",
    "stage",
]
