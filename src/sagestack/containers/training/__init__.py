"""The training runner: what runs in a training host as a SageMaker training image would."""
