"""A real model server process for the tests: started with `python -m
sagestack.containers.serving serve` on a free port (or a Unix socket), ready when `/ping`
answers, and talked to over one keep-alive connection, as the platform's proxy does."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

READY_WITHIN = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=30)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def runtime(mode: str, name: str) -> dict[str, str]:
    return {"SAGESTACK_RUNTIME": json.dumps({"mode": mode, "name": name})}


class ModelServer:
    def __init__(self, base: Path, env: dict[str, str], unix_socket: Path | None = None) -> None:
        self.base = base
        self.unix_socket = unix_socket
        self.port = free_port()
        self.env = {
            **os.environ,
            "SAGEMAKER_BASE_DIR": str(base),
            "SAGEMAKER_BIND_TO_PORT": str(self.port),
            **env,
        }
        if unix_socket is not None:
            self.env["SAGESTACK_SERVING_SOCKET"] = str(unix_socket)
        self.log = base / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.connection: http.client.HTTPConnection | None = None

    def launch(self) -> subprocess.Popen[bytes]:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "sagestack.containers.serving", "serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self.process

    def output(self) -> str:
        return self.log.read_text()

    def connect(self) -> http.client.HTTPConnection:
        if self.unix_socket is not None:
            return UnixConnection(str(self.unix_socket))
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def start(self) -> ModelServer:
        """Launch and wait until `/ping` answers 200 (or fail with the server's output)."""
        process = self.launch()
        deadline = time.monotonic() + READY_WITHIN
        while time.monotonic() < deadline:
            try:
                process.wait(timeout=0.05)  # paces the polling; returns early if it died
            except subprocess.TimeoutExpired:
                pass
            else:
                raise AssertionError(f"model server exited {process.returncode}:\n{self.output()}")
            try:
                status, _, _ = self.request("GET", "/ping")
            except (ConnectionError, FileNotFoundError, http.client.HTTPException, OSError):
                self.connection = None
                continue
            if status == 200:
                return self
        self.stop()
        raise AssertionError(f"model server not ready in {READY_WITHIN}s:\n{self.output()}")

    def run_to_exit(self, timeout: float = 60) -> int:
        """For servers that must fail to start: the exit code."""
        return self.launch().wait(timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str = b"",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        if self.connection is None:
            self.connection = self.connect()
        payload = body.encode() if isinstance(body, str) else body
        self.connection.request(method, path, body=payload or None, headers=headers or {})
        response = self.connection.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def invoke(
        self, body: bytes | str, content_type: str | None, accept: str | None = None, **extra: str
    ) -> tuple[int, dict[str, str], bytes]:
        headers = dict(extra)
        if content_type is not None:
            headers["Content-Type"] = content_type
        if accept is not None:
            headers["Accept"] = accept
        return self.request("POST", "/invocations", body, headers)

    def stop(self) -> None:
        if self.connection is not None:
            self.connection.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> ModelServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
