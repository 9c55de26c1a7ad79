"""`python -m sagestack.containers.training`: run the training job laid out in the job root."""

from sagestack.containers.training.runner import main

raise SystemExit(main())
