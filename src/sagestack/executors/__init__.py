"""Where workloads run: a protocol, and local processes as the embedded default."""
