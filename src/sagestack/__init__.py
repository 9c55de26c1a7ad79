"""sagestack: a self-hosted Amazon SageMaker that speaks SageMaker's wire API and does the work."""

__version__ = "0.1.0"
