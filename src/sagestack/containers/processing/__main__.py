"""`python -m sagestack.containers.processing`: run the processing job's container command."""

from sagestack.containers.processing.runner import main

raise SystemExit(main())
