"""Classify a backlog of images with the serving model, by SageMaker batch transform.

Every image under an S3 prefix goes through one batch transform job of the model the
deployment record names (or a model given by name), and the answers become one predictions
file: JSON Lines, one line per image, sorted by key::

    {"image": "s3://bucket/backlog/a.png", "predicted_class": "bicycle", "confidence": 0.97,
     "probabilities": {"bicycle": 0.97, "motorcycle": 0.03}}

``scones classify-backlog`` runs it (``cli.py``); the work is in ``classify.py``
(``classify_backlog``, ``transform_config``). On the local emulator the transform job really
classifies (``scones.emulator.sagemaker.transform``). Nothing is imported here, so
``scones --help`` stays fast.
"""
