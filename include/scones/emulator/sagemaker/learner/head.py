"""The trainable part: softmax regression by mini-batch SGD on whitened features.

The algorithm's ``epochs``, ``mini_batch_size``, ``learning_rate``, ``momentum``,
``weight_decay`` and ``optimizer`` mean here what they mean for the network SageMaker
trains: passes over the data, samples per step, step size, and so on.

Why whiten first: the features have ~15,000 correlated dimensions of very different scales,
on which plain SGD at the algorithm's usual step sizes (0.001 to 0.1) either crawls or
diverges. Projecting the standardised features on their principal components and scaling
each by ``1 / sqrt(variance + ridge)`` gives every direction the same curvature, so one
learning rate suits them all and the default (0.001 for 30 epochs of 32) converges; the
ridge damps the noisy low-variance directions. The components come from the Gram matrix
(samples x samples) of the original images (their mirrors add little but would make the
eigendecomposition, the slowest step, eight times slower). After training
the projection, the standardisation and the weights fold into one ``(features, classes)``
matrix, so predicting is a single product.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

RIDGE = 0.01  # relative to the largest component's variance
OPTIMIZERS = ("sgd", "nag", "adam", "rmsprop")  # the algorithm's `optimizer` values


@dataclass(frozen=True)
class SGDSettings:
    epochs: int = 30
    mini_batch_size: int = 32
    learning_rate: float = 0.001
    momentum: float = 0.9
    weight_decay: float = 0.0001
    optimizer: str = "sgd"
    beta_1: float = 0.9
    beta_2: float = 0.999
    eps: float = 1e-8
    gamma: float = 0.9  # rmsprop's decay


@dataclass
class LinearHead:
    """``logits = features @ weights + bias``; probabilities by softmax."""

    weights: np.ndarray  # (features, classes) float32
    bias: np.ndarray  # (classes,) float32

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        return softmax(features @ self.weights + self.bias)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(1, keepdims=True))
    return z / z.sum(1, keepdims=True)


@dataclass
class Whitening:
    """Standardise, project on principal components, equalise their variances."""

    mean: np.ndarray
    scale: np.ndarray  # per-feature standard deviation
    components: np.ndarray  # (features, k), columns scaled by 1/sqrt(variance + ridge)

    @classmethod
    def fit(cls, features: np.ndarray) -> Whitening:
        """Fit on ``features`` ``(n, d)``, n < d: the directions are ``X^T u / sqrt(lambda)`` for
        the eigenvectors ``u`` of the Gram matrix ``X X^T`` (n x n instead of d x d).
        """
        n = len(features)
        mean = features.mean(0)
        scale = features.std(0) + 1e-6
        standard = (features - mean) / scale
        eigenvalues, vectors = np.linalg.eigh((standard @ standard.T).astype(np.float64))
        keep = eigenvalues > eigenvalues[-1] * 1e-6
        eigenvalues, vectors = eigenvalues[keep], vectors[:, keep].astype(np.float32)
        variances = eigenvalues / n
        equalise = 1.0 / np.sqrt(variances + RIDGE * variances.max())
        directions = (standard.T @ vectors) * (equalise / np.sqrt(eigenvalues)).astype(np.float32)
        return cls(mean, scale, directions.astype(np.float32))

    def __call__(self, features: np.ndarray) -> np.ndarray:
        return ((features - self.mean) / self.scale) @ self.components

    def fold(self, head: LinearHead) -> LinearHead:
        """The head on raw features equal to ``head`` on whitened ones."""
        weights = (self.components @ head.weights) / self.scale[:, None]
        return LinearHead(weights.astype(np.float32), (head.bias - self.mean @ weights).astype(np.float32))


def train_head(
    x: np.ndarray,
    y: np.ndarray,
    classes: int,
    settings: SGDSettings,
    rng: np.random.Generator,
    on_epoch: Callable[[int, LinearHead], None] | None = None,
) -> LinearHead:
    """Minimise softmax cross-entropy + ``weight_decay/2 * |W|^2`` over ``settings.epochs`` passes.

    :param x: whitened features ``(n, k)``
    :param y: labels ``0..classes-1``
    :param on_epoch: called after each epoch with the epoch number and the current head
    """
    n, k = x.shape
    head = LinearHead(np.zeros((k, classes), np.float32), np.zeros(classes, np.float32))
    step = _optimizer(settings)
    targets = np.eye(classes, dtype=np.float32)[y]
    for epoch in range(settings.epochs):
        order = rng.permutation(n)
        for start in range(0, n, settings.mini_batch_size):
            batch = order[start : start + settings.mini_batch_size]
            error = (head.probabilities(x[batch]) - targets[batch]) / len(batch)
            grad_w = x[batch].T @ error + settings.weight_decay * head.weights
            step(head, grad_w, error.sum(0))
        if on_epoch is not None:
            on_epoch(epoch, head)
    return head


def _optimizer(s: SGDSettings) -> Callable[[LinearHead, np.ndarray, np.ndarray], None]:
    """An in-place update rule for (weights, bias), with its state in a closure."""
    state: dict[str, list[np.ndarray]] = {}
    t = [0]

    def slots(name: str, head: LinearHead) -> list[np.ndarray]:
        return state.setdefault(name, [np.zeros_like(head.weights), np.zeros_like(head.bias)])

    def update(head: LinearHead, grad_w: np.ndarray, grad_b: np.ndarray) -> None:
        t[0] += 1
        for i, (param, grad) in enumerate(((head.weights, grad_w), (head.bias, grad_b))):
            if s.optimizer in ("sgd", "nag"):
                velocity = slots("v", head)[i]
                velocity *= s.momentum
                velocity -= s.learning_rate * grad
                # Nesterov: step along the look-ahead velocity.
                param += s.momentum * velocity - s.learning_rate * grad if s.optimizer == "nag" else velocity
            elif s.optimizer == "adam":
                m, v = slots("m", head)[i], slots("v", head)[i]
                m[...] = s.beta_1 * m + (1 - s.beta_1) * grad
                v[...] = s.beta_2 * v + (1 - s.beta_2) * grad * grad
                m_hat = m / (1 - s.beta_1 ** t[0])
                v_hat = v / (1 - s.beta_2 ** t[0])
                param -= s.learning_rate * m_hat / (np.sqrt(v_hat) + s.eps)
            else:  # rmsprop
                v = slots("v", head)[i]
                v[...] = s.gamma * v + (1 - s.gamma) * grad * grad
                param -= s.learning_rate * grad / (np.sqrt(v) + s.eps)

    return update
