"""Code that runs inside workload processes as SageMaker images would; it imports nothing
of the server."""
