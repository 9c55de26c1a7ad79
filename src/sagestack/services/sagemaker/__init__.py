"""The SageMaker control plane (`sagemaker`, awsJson 1.1), one module per resource family."""
