"""sagemaker-runtime: InvokeEndpoint predicts with the endpoint's loaded model and captures data."""
