"""Training on SageMaker's built-in image-classification algorithm: configs and the quality gate."""
