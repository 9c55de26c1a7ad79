"""`python -m sagestack.containers.serving serve`: serve the model laid out in the replica root."""

from sagestack.containers.serving.server import main

raise SystemExit(main())
