"""The processing runner: what runs in a processing host as a SageMaker processing image would."""
