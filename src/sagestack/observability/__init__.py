"""What sagestack records about its own work: the CloudWatch Logs data (log store) and the
pure pieces around it (filter patterns)."""
