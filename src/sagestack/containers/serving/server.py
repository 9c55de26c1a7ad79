"""Starting the model server: bind, load the model, serve; with several workers, pre-fork.

With SAGEMAKER_MODEL_SERVER_WORKERS=N > 1 the parent binds the socket once and forks N workers
that inherit it. Each worker loads the model and reports to the parent; only when all N have,
the parent lets them start listening, so the first `/ping` that connects means every worker is
ready (before that the socket refuses connections). A worker that fails to load fails the
server: its traceback is on stderr, the parent stops the others and exits 1. A worker that dies
later is replaced. Workers watch a pipe from the parent and stop when it dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import select
import signal
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import NoReturn

from sagestack.containers.serving.errors import error_style
from sagestack.containers.serving.handlers import load
from sagestack.containers.serving.http import Application, HttpConnection
from sagestack.containers.serving.multi_model import MultiModelApplication
from sagestack.containers.serving.settings import ServingSettings, SettingsError
from sagestack.containers.training.runner import requirements_python

log = logging.getLogger("sagestack.serving")

#: Replacements of dead workers allowed before the server gives up (a crash loop).
MAX_RESTARTS = 10


def bind(settings: ServingSettings) -> socket.socket:
    """The server's socket, bound but not yet listening (connections are refused until the
    model is loaded)."""
    if settings.unix_socket:
        if os.path.exists(settings.unix_socket):
            os.unlink(settings.unix_socket)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(settings.unix_socket)
        return sock
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", settings.port))
    return sock


def _event_loop() -> asyncio.AbstractEventLoop:
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def serve(sock: socket.socket, app: Application, lifeline: int | None = None) -> None:
    """Listen on `sock` and answer requests until SIGTERM/SIGINT (or the parent's death)."""
    loop = _event_loop()
    app.install_timer()
    if sock.family == socket.AF_UNIX:
        starting = loop.create_unix_server(lambda: HttpConnection(app), sock=sock, backlog=2048)
    else:
        starting = loop.create_server(lambda: HttpConnection(app), sock=sock, backlog=2048)
    server = loop.run_until_complete(starting)
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, loop.stop)
    if lifeline is not None:
        loop.add_reader(lifeline, loop.stop)  # readable only at EOF: the parent is gone
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.close()


def _application(settings: ServingSettings) -> tuple[Application, str]:
    if settings.multi_model:
        return MultiModelApplication(settings), "multi-model server (models load on request)"
    model = load(settings)
    errors = error_style(settings.mode, settings.name)
    app = Application(model, settings.timeout, settings.workers, settings.max_payload_mb, errors)
    return app, model.description


def _ready_line(settings: ServingSettings, description: str, started: float) -> None:
    log.info(
        "Model loaded in %.2fs: %s; %d worker%s listening on %s (timeout %gs)",
        time.monotonic() - started,
        description,
        settings.workers,
        "" if settings.workers == 1 else "s",
        settings.address,
        settings.timeout,
    )


def _worker(
    settings: ServingSettings, sock: socket.socket, ready: int, gate: int | None, lifeline: int
) -> NoReturn:
    """A forked worker: load, report, wait for the gate, serve. Never returns."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    code = 0
    try:
        try:
            app, description = _application(settings)
        except BaseException:
            traceback.print_exc()
            os.write(ready, b"f\n")
            code = 1
        else:
            os.write(ready, f"r {description}\n".encode())
            if gate is not None:
                os.read(gate, 1)
            serve(sock, app, lifeline)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


class Supervisor:
    """The parent of N workers (see the module's docstring)."""

    def __init__(self, settings: ServingSettings, sock: socket.socket) -> None:
        self.settings = settings
        self.sock = sock
        self.ready_r, self.ready_w = os.pipe()
        self.gate_r, self.gate_w = os.pipe()
        self.lifeline_r, self.lifeline_w = os.pipe()
        self.workers: set[int] = set()
        self.stopping = False

    def spawn(self, gated: bool) -> None:
        pid = os.fork()
        if pid == 0:
            os.close(self.lifeline_w)
            os.close(self.ready_r)
            _worker(
                self.settings,
                self.sock,
                self.ready_w,
                self.gate_r if gated else None,
                self.lifeline_r,
            )
        self.workers.add(pid)

    def stop(self, signum: int = signal.SIGTERM, frame: object = None) -> None:
        self.stopping = True
        for pid in self.workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def reap(self, block: bool) -> list[tuple[int, int]]:
        """The workers that exited (pid, exit code), removed from the set."""
        done = []
        while self.workers:
            pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
            if pid == 0:
                break
            self.workers.discard(pid)
            done.append((pid, os.waitstatus_to_exitcode(status)))
            block = False
        return done

    def wait_ready(self) -> str | None:
        """The handlers' description once every worker loaded; None when one failed."""
        pending = b""
        ready: list[str] = []
        while len(ready) < self.settings.workers:
            if select.select([self.ready_r], [], [], 0.5)[0]:
                pending += os.read(self.ready_r, 65536)
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.startswith(b"f"):
                        return None
                    ready.append(line[2:].decode())
            elif self.reap(block=False) or self.stopping:
                return None  # died without a word (killed): a load failure all the same
        return ready[0]

    def run(self) -> int:
        started = time.monotonic()
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        for _ in range(self.settings.workers):
            self.spawn(gated=True)
        description = self.wait_ready()
        if description is None:
            stopped = self.stopping
            if not stopped:
                log.error("A worker failed to load the model; stopping the model server")
            self.stop()
            while self.workers:
                self.reap(block=True)
            return 0 if stopped else 1
        _ready_line(self.settings, description, started)
        os.write(self.gate_w, b"g" * self.settings.workers)
        restarts = 0
        while self.workers:
            for pid, code in self.reap(block=True):
                if self.stopping:
                    continue
                restarts += 1
                log.error("Worker %d exited with code %d; starting another", pid, code)
                if restarts > MAX_RESTARTS:
                    log.error("Workers keep dying; stopping the model server")
                    self.stop()
                    continue
                self.spawn(gated=False)
        return 1 if restarts > MAX_RESTARTS else 0


def _with_requirements(settings: ServingSettings, args: list[str]) -> None:
    """When the inference code ships a requirements.txt, become this same server in the
    environment made for it (cached by the file's hash, layered on this one), as the framework
    images install it at start-up. Returns only when there is nothing to install."""
    cache = os.environ.get("SAGESTACK_ENVIRONMENTS")
    if not cache or os.environ.get("SAGESTACK_REQUIREMENTS_PYTHON"):
        return  # none asked for, or this is already the server in its environment
    for code_dir in settings.code_dirs:
        if (code_dir / "requirements.txt").is_file():
            python = requirements_python(code_dir, Path(cache))
            if Path(python).absolute() != Path(sys.executable).absolute():
                sys.stdout.flush()
                os.environ["SAGESTACK_REQUIREMENTS_PYTHON"] = python
                os.execv(python, [python, "-m", "sagestack.containers.serving", *args])
            return


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] != "serve":
        print(
            f"usage: python -m sagestack.containers.serving serve (not {args[0]!r})",
            file=sys.stderr,
        )
        return 2
    try:
        settings = ServingSettings.from_environment()
    except SettingsError as error:
        print(f"Model server configuration error: {error}", file=sys.stderr, flush=True)
        return 1
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s",
        stream=sys.stderr,
    )
    _with_requirements(settings, args)
    sock = bind(settings)
    # A multi-model server's models are loaded into one process by the platform's calls, so it
    # runs one worker (pre-forked workers would each hold a different set).
    if settings.workers > 1 and not settings.multi_model:
        return Supervisor(settings, sock).run()
    started = time.monotonic()
    try:
        app, description = _application(settings)
    except BaseException:
        log.error("The model failed to load:\n%s", traceback.format_exc().rstrip())
        return 1
    _ready_line(settings, description, started)
    serve(sock, app)
    return 0
