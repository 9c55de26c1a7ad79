"""The Ray Serve peer of the hosting benchmark: the same scikit-learn model, served by Ray Serve
with N replicas behind Ray's own HTTP proxy at POST /invocations (CSV in, CSV out).

Run with the Ray venv's interpreter (`.bench-venv/ray`, from bench/requirements-ray.txt):

    python bench/hosting/ray_peer.py MODEL_JOBLIB REPLICAS PORT SCRATCH_DIR

It prints `ready` once the deployment answers, then serves until its standard input closes.
"""

from __future__ import annotations

import io
import os
import sys
import urllib.request


def main() -> int:
    model_path, replicas, port, scratch = (
        sys.argv[1],
        int(sys.argv[2]),
        int(sys.argv[3]),
        sys.argv[4],
    )
    os.environ["HOME"] = scratch  # Ray writes under HOME; keep it in the benchmark's scratch dir
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    import joblib
    import numpy as np
    import ray
    from ray import serve
    from starlette.requests import Request
    from starlette.responses import Response

    # Quiet, as sagestack runs in the benchmark: no access log line per request.
    quiet = {"log_level": "WARNING", "enable_access_log": False}

    @serve.deployment(
        num_replicas=replicas, ray_actor_options={"num_cpus": 0}, logging_config=quiet
    )
    class Regression:
        def __init__(self) -> None:
            self.model = joblib.load(model_path)

        async def __call__(self, request: Request) -> Response:
            rows = np.loadtxt(io.BytesIO(await request.body()), delimiter=",", ndmin=2)
            body = "\n".join(repr(float(value)) for value in self.model.predict(rows)) + "\n"
            return Response(body, media_type="text/csv")

    ray.init(
        num_cpus=os.cpu_count(),
        include_dashboard=False,
        _temp_dir=os.path.join(scratch, "ray"),
        logging_level="ERROR",
    )
    serve.start(http_options={"host": "127.0.0.1", "port": port}, logging_config=quiet)
    serve.run(Regression.bind(), route_prefix="/invocations")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations", data=b"0.1,0.2,0.3,0.4\n", method="POST"
    )
    urllib.request.urlopen(request, timeout=60).read()
    print("ready", flush=True)
    sys.stdin.read()  # serve until the benchmark closes our input
    serve.shutdown()
    ray.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
