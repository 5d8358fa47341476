"""The model the emulator trains in place of SageMaker's image-classification network.

A compact, CPU-only classifier (numpy; no deep-learning framework): features from a
learned patch dictionary, HOG and colour statistics (:mod:`.features`), and a softmax
head trained by mini-batch SGD with the algorithm's hyperparameters (:mod:`.head`).
On the 1000 CIFAR-100 bicycle/motorcycle training images it trains in well under a
minute on two cores; ``benchmarks/accuracy.py`` measures its test accuracy.

It knows nothing of moto or S3: arrays in, arrays (or bytes) out.
"""

from scones.emulator.sagemaker.learner.classifier import EpochReport, ImageClassifier
from scones.emulator.sagemaker.learner.features import IMAGE_SIZE
from scones.emulator.sagemaker.learner.head import OPTIMIZERS, SGDSettings
from scones.emulator.sagemaker.learner.images import UndecodableImage, decode_image

__all__ = [
    "IMAGE_SIZE",
    "OPTIMIZERS",
    "EpochReport",
    "ImageClassifier",
    "SGDSettings",
    "UndecodableImage",
    "decode_image",
]
