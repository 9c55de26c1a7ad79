"""S3 on sagestack's port, served from the local object store."""
