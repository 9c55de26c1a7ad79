"""The transform job's HTTP client to its replicas: MaxConcurrentTransforms keep-alive
connections per replica, each carrying one request at a time, so every replica has that many
requests in flight while the job runs; ModelClientConfig's time limit and retries as SageMaker
applies them (a request that times out, cannot connect or gets a 5xx is retried; a 4xx is not).
"""

from __future__ import annotations

import http.client
import json
import queue
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

#: ModelClientConfig's defaults (its API reference).
DEFAULT_TIMEOUT = 600
DEFAULT_RETRIES = 3


class InvocationFailed(Exception):
    """A request failed for good: `detail` is what SageMaker writes to the data log."""

    def __init__(self, detail: str, status: int | None = None, message: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.message = message


class _Connection:
    def __init__(self, address: str, timeout: float) -> None:
        parts = urlsplit(address)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 8080
        self.timeout = timeout
        self.http: http.client.HTTPConnection | None = None

    def post(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
        if self.http is None:
            self.http = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        self.http.request("POST", "/invocations", body=body, headers=dict(headers))
        reply = self.http.getresponse()
        data = reply.read()
        if reply.will_close:
            self.reset()
        return reply.status, data

    def reset(self) -> None:
        if self.http is not None:
            self.http.close()
            self.http = None


class ReplicaClient:
    """Pooled connections to a job's replicas; `invoke` may be called from many threads."""

    def __init__(
        self,
        addresses: Sequence[str],
        per_replica: int,
        *,
        content_type: str | None,
        accept: str | None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
    ) -> None:
        self.timeout = timeout
        self.retries = retries
        self.headers = {"Content-Type": content_type or "application/octet-stream"}
        if accept:
            self.headers["Accept"] = accept
        self._idle: queue.Queue[_Connection] = queue.Queue()
        self.connections = [
            _Connection(address, timeout)
            for _ in range(max(1, per_replica))
            for address in addresses
        ]
        for connection in self.connections:
            self._idle.put(connection)

    def invoke(self, body: bytes) -> bytes:
        """The model's response to `body`; InvocationFailed when every attempt failed."""
        connection = self._idle.get()
        try:
            failure = InvocationFailed("Unable to get response from algorithm")
            for _ in range(self.retries + 1):
                try:
                    status, data = connection.post(body, self.headers)
                except TimeoutError:
                    connection.reset()
                    failure = InvocationFailed(
                        "Model server did not respond to /invocations request within "
                        f"{self.timeout:g} seconds"
                    )
                    continue
                except (OSError, http.client.HTTPException) as error:
                    connection.reset()
                    failure = InvocationFailed(f"Unable to get response from algorithm: {error}")
                    continue
                if status < 300:
                    return data
                message = data.decode("utf-8", errors="replace")
                failure = InvocationFailed(
                    f"{'ClientError' if status < 500 else 'ServerError'}: {status}",
                    status,
                    message,
                )
                if status < 500:
                    break
            raise failure
        finally:
            self._idle.put(connection)

    def close(self) -> None:
        for connection in self.connections:
            connection.reset()


def execution_parameters(address: str, timeout: float = 10.0) -> dict[str, Any]:
    """The model server's GET /execution-parameters, or {} when it has none (any failure)."""
    parts = urlsplit(address)
    connection = http.client.HTTPConnection(
        parts.hostname or "127.0.0.1", parts.port or 8080, timeout=timeout
    )
    try:
        connection.request("GET", "/execution-parameters")
        reply = connection.getresponse()
        data = reply.read()
        if reply.status != 200:
            return {}
        found = json.loads(data)
        return found if isinstance(found, dict) else {}
    except (OSError, http.client.HTTPException, ValueError):
        return {}
    finally:
        connection.close()
