"""Deployment to a SageMaker endpoint: configs, the deployment record, smoke test, cleanup."""
