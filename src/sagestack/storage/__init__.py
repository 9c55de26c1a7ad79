"""The object store: a protocol, files in the data dir, and an S3 client."""
