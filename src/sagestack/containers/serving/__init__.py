"""The model server one endpoint replica runs, as the SageMaker inference images run theirs:
`/ping`, `/invocations` and `/execution-parameters` over HTTP/1.1, the inference toolkit's
handler chain (`model_fn`, `input_fn`, `predict_fn`, `output_fn` or `transform_fn`) with each
framework's defaults, or a built-in algorithm's `load_model` / `predict`."""
