"""The SageMaker data plane (sagemaker-runtime): InvokeEndpoint."""
