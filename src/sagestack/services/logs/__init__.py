"""CloudWatch Logs (botocore service `logs`, awsJson 1.1) on sagestack's port."""
