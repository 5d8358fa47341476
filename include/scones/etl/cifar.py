"""Read the CIFAR-100 "python version" archive without extracting it to disk.

The archive (``cifar-100-python/{meta,train,test}``) is streamed through ISA-L's gzip
(about twice zlib's speed; decompression is the floor of the whole transform) and
``tarfile``'s stream mode. Its members are pickles, so they are read with an unpickler
that only admits numpy's array reconstruction: a crafted archive cannot run code.
"""

from __future__ import annotations

import io
import pickle
import re
import tarfile
import zlib
from dataclasses import dataclass

import numpy as np
from isal import igzip

from scones.errors import CorruptArchive

#: The 100 fine label names in label-id order, as in the archive's ``meta`` member; used
#: to validate a class list before anything is downloaded.
CIFAR100_FINE_LABELS: tuple[str, ...] = (
    "apple",
    "aquarium_fish",
    "baby",
    "bear",
    "beaver",
    "bed",
    "bee",
    "beetle",
    "bicycle",
    "bottle",
    "bowl",
    "boy",
    "bridge",
    "bus",
    "butterfly",
    "camel",
    "can",
    "castle",
    "caterpillar",
    "cattle",
    "chair",
    "chimpanzee",
    "clock",
    "cloud",
    "cockroach",
    "couch",
    "crab",
    "crocodile",
    "cup",
    "dinosaur",
    "dolphin",
    "elephant",
    "flatfish",
    "forest",
    "fox",
    "girl",
    "hamster",
    "house",
    "kangaroo",
    "keyboard",
    "lamp",
    "lawn_mower",
    "leopard",
    "lion",
    "lizard",
    "lobster",
    "man",
    "maple_tree",
    "motorcycle",
    "mountain",
    "mouse",
    "mushroom",
    "oak_tree",
    "orange",
    "orchid",
    "otter",
    "palm_tree",
    "pear",
    "pickup_truck",
    "pine_tree",
    "plain",
    "plate",
    "poppy",
    "porcupine",
    "possum",
    "rabbit",
    "raccoon",
    "ray",
    "road",
    "rocket",
    "rose",
    "sea",
    "seal",
    "shark",
    "shrew",
    "skunk",
    "skyscraper",
    "snail",
    "snake",
    "spider",
    "squirrel",
    "streetcar",
    "sunflower",
    "sweet_pepper",
    "table",
    "tank",
    "telephone",
    "television",
    "tiger",
    "tractor",
    "train",
    "trout",
    "tulip",
    "turtle",
    "wardrobe",
    "whale",
    "willow_tree",
    "wolf",
    "woman",
    "worm",
)

SPLITS = ("train", "test")
IMAGE_BYTES = 3 * 32 * 32
#: The official members are 161 MB (train), 32 MB (test) and 1.5 KB (meta). A larger one is
#: not CIFAR-100 (or is a decompression bomb): refused before it is read. Reading a member
#: takes about three times its size at peak (tarfile's stream buffer, the unpickled string,
#: the array), so this bounds the ETL's memory whatever the archive claims.
MAX_MEMBER_BYTES = 256 << 20
#: A file name becomes an S3 key segment and a field of a tab-separated .lst line: no path
#: separators, whitespace or control characters (CIFAR's are like ``bicycle_s_000017.png``).
SAFE_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,200}\Z")  # \Z: "$" would let a final newline through

_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


class _ArrayOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise CorruptArchive(
                f"the archive's pickle asks for {module}.{name}, which a CIFAR-100 file never "
                "does; refusing to load it (is this the right file?)"
            )
        return super().find_class(module, name)


def _unpickle(raw: bytes, member: str) -> dict[bytes, object]:
    try:
        obj = _ArrayOnlyUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except CorruptArchive:
        raise
    except Exception as exc:  # any unpickling failure means a damaged member
        raise CorruptArchive(f"member {member} is not a readable CIFAR pickle: {exc}") from exc
    if not isinstance(obj, dict):
        raise CorruptArchive(f"member {member} holds {type(obj).__name__}, expected a dict")
    return obj


@dataclass(frozen=True)
class Split:
    """The rows of one split that were asked for."""

    data: np.ndarray  # (N, 3072) uint8: 1024 red, 1024 green, 1024 blue, row-major 32x32
    fine_labels: np.ndarray  # (N,) int64 CIFAR fine label ids
    filenames: list[str]

    def __len__(self) -> int:
        return len(self.fine_labels)


@dataclass(frozen=True)
class CifarArchive:
    label_names: tuple[str, ...]
    splits: dict[str, Split]


def _select(obj: dict[bytes, object], member: str, wanted: np.ndarray | None) -> Split:
    try:
        data = obj[b"data"]
        labels = np.asarray(obj[b"fine_labels"], dtype=np.int64)
        names = obj[b"filenames"]
    except KeyError as exc:
        raise CorruptArchive(f"member {member} lacks the key {exc.args[0]!r}") from exc
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != IMAGE_BYTES:
        raise CorruptArchive(f"member {member}: 'data' is not a uint8 array of shape (N, {IMAGE_BYTES})")
    if not len(labels) == len(names) == len(data):
        raise CorruptArchive(f"member {member}: data, labels and filenames differ in length")
    index = np.flatnonzero(np.isin(labels, wanted)) if wanted is not None else np.arange(len(labels))
    filenames = [_filename(names[i], member) for i in index]
    # Copy the selected rows so the whole split's array can be freed at once.
    return Split(np.ascontiguousarray(data[index]), labels[index], filenames)


def _filename(raw: object, member: str) -> str:
    try:
        name = raw.decode() if isinstance(raw, bytes) else str(raw)
    except UnicodeDecodeError as exc:
        raise CorruptArchive(f"member {member} has a file name that is not UTF-8: {raw!r}") from exc
    if not SAFE_FILENAME.match(name) or name in (".", ".."):
        raise CorruptArchive(
            f"member {member} has the file name {name!r}: names must be letters, digits, '.', '_', '+' "
            "or '-' (no path separators, spaces, tabs or newlines), as CIFAR-100's are; nothing was uploaded"
        )
    return name


def read_cifar_archive(path: str | io.IOBase, wanted_labels: list[int] | None = None) -> CifarArchive:
    """Read ``meta``, ``train`` and ``test`` from the archive, keeping only wanted labels.

    :param path: the ``.tar.gz`` file (or a binary file object).
    :param wanted_labels: fine label ids to keep; ``None`` keeps every row.
    :raises CorruptArchive: not gzip/tar, truncated, or missing a member or key.
    """
    wanted = None if wanted_labels is None else np.asarray(wanted_labels, dtype=np.int64)
    label_names: tuple[str, ...] | None = None
    splits: dict[str, Split] = {}
    try:
        # A 1 MiB stream buffer instead of tarfile's 10 KiB: a third less time reading members.
        with igzip.open(path, "rb") as gz, tarfile.open(fileobj=gz, mode="r|", bufsize=1 << 20) as tar:
            for member in tar:
                base = member.name.rsplit("/", 1)[-1]
                if not member.isfile() or base not in ("meta", *SPLITS):
                    continue
                if member.size > MAX_MEMBER_BYTES:
                    raise CorruptArchive(
                        f"member {member.name} is {member.size / 1e6:.0f} MB; CIFAR-100's largest is 161 MB: "
                        "not the CIFAR-100 archive (refused before reading it)"
                    )
                fileobj = tar.extractfile(member)
                assert fileobj is not None  # a regular file always has content
                obj = _unpickle(fileobj.read(), member.name)
                if base == "meta":
                    names = obj.get(b"fine_label_names")
                    if not isinstance(names, list) or len(names) != 100:
                        raise CorruptArchive("member meta lacks the 100 fine_label_names")
                    label_names = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)
                else:
                    splits[base] = _select(obj, member.name, wanted)
                del obj
    except (tarfile.TarError, EOFError, OSError, zlib.error, igzip.BadGzipFile) as exc:
        raise CorruptArchive(
            f"{getattr(path, 'name', path)} is not a complete CIFAR-100 .tar.gz ({exc}); "
            "the file is truncated or corrupt: delete it (or its cache entry) and fetch again"
        ) from exc
    missing = [
        m for m in ("meta", *SPLITS) if (m == "meta" and label_names is None) or (m != "meta" and m not in splits)
    ]
    if missing:
        raise CorruptArchive(f"the archive has no member(s) {', '.join(missing)}: is it cifar-100-python.tar.gz?")
    assert label_names is not None
    return CifarArchive(label_names, splits)
