"""The `sagestack` command: `serve` runs the server in the foreground; `coverage` reports which
operations of each served AWS API are implemented."""

from __future__ import annotations

import argparse
import logging
import shlex
import socket
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from sagestack import __version__
from sagestack.config import DEFAULT_PORT, Settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from sagestack.app import build_application

    try:
        settings = Settings.from_env(
            host=args.host,
            port=args.port,
            data_dir=args.data_dir,
            allow_reset=True if args.allow_reset else None,
            log_level=args.log_level,
        )
    except ValueError as error:
        print(f"sagestack: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    application = build_application(settings)
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as error:
        print(
            f"sagestack: cannot listen on {settings.host}:{settings.port}: {error.strerror}. "
            "Pick another port with --port or SAGESTACK_PORT.",
            file=sys.stderr,
        )
        return 1
    port = sock.getsockname()[1]
    settings = replace(settings, port=port)  # the port actually bound (0 picks one)
    print(_banner(settings), flush=True)
    config = uvicorn.Config(
        application.asgi,
        log_level=settings.log_level,
        access_log=False,
        server_header=False,
        lifespan="on",
    )
    try:
        application.start()
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        application.close()
    return 0


def _banner(settings: Settings) -> str:
    url = settings.url
    lines = [
        f"sagestack {__version__} listening on {url}",
        f"  data dir: {settings.data_dir}   account: {settings.account_id}",
        "Point AWS clients (boto3, the AWS CLI, the SageMaker SDK) at it with:",
        f"  export AWS_ENDPOINT_URL={url}",
        "  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test "
        f"AWS_DEFAULT_REGION={settings.default_region}",
        f"Health: {url}/_sagestack/health",
    ]
    if settings.allow_reset:
        lines.append(f"Reset (wipes all state): POST {url}/_sagestack/reset")
    return "\n".join(lines)


def _coverage(args: argparse.Namespace) -> int:
    import tempfile

    from sagestack.app import build_registry, open_backends
    from sagestack.spec.catalog import SERVED_SERVICES, load_service

    with tempfile.TemporaryDirectory(prefix="sagestack-coverage-") as scratch:
        backends = open_backends(Settings(data_dir=Path(scratch)))
        registry = build_registry(backends)
        backends.close()
    print(f"{'service':<20} {'implemented':>11} {'total':>6}")
    for service in SERVED_SERVICES:
        operations = load_service(service).operation_names
        done = registry.implemented(service)
        print(f"{service:<20} {len(done):>11} {len(operations):>6}")
        if args.verbose:
            for name in operations:
                print(f"  [{'x' if name in done else ' '}] {name}")
    return 0


def _images(args: argparse.Namespace) -> int:
    from sagestack.app import registered_images
    from sagestack.resources.images import ALGORITHMS, FRAMEWORKS, LocalImage, render_registry

    settings = Settings.from_env(data_dir=args.data_dir)
    images = registered_images(settings)
    if args.action == "register":
        command = shlex.split(args.command)
        if not command:
            print("sagestack: --command must name a program", file=sys.stderr)
            return 2
        directory = str(Path(args.directory).resolve())
        images[args.image] = LocalImage(tuple(command), directory)
    elif args.action == "remove" and images.pop(args.image, None) is None:
        print(f"sagestack: {args.image} is not registered", file=sys.stderr)
        return 1
    if args.action in ("register", "remove"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        temporary = settings.images_file.with_suffix(".tmp")
        temporary.write_text(render_registry(images))
        temporary.replace(settings.images_file)
        return 0
    print("Framework images (script mode), by repository, any registry and tag:")
    for repository, framework in sorted(FRAMEWORKS.items()):
        print(f"  {repository:<32} {framework}")
    print("Built-in algorithm images:")
    for repository, algorithm in sorted(ALGORITHMS.items()):
        print(f"  {repository:<32} {algorithm}")
    print(f"Registered images ({settings.images_file}):")
    for image, local in sorted(images.items()):
        print(f"  {image}: {' '.join(local.command)} (in {local.directory})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sagestack", description=__doc__)
    parser.add_argument("--version", action="version", version=f"sagestack {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the server in the foreground")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1; SAGESTACK_HOST)")
    serve.add_argument(
        "--port", type=int, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)"
    )
    serve.add_argument("--data-dir", help="where state lives (default ~/.sagestack)")
    serve.add_argument(
        "--allow-reset", action="store_true", help="enable POST /_sagestack/reset (for tests)"
    )
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(run=_serve)
    coverage = commands.add_parser("coverage", help="implemented / total operations per service")
    coverage.add_argument("-v", "--verbose", action="store_true", help="list every operation")
    coverage.set_defaults(run=_coverage)
    images = commands.add_parser("images", help="list the images sagestack runs; register your own")
    images.add_argument("--data-dir", help="where state lives (default ~/.sagestack)")
    images.set_defaults(run=_images, action="list")
    image_actions = images.add_subparsers(dest="action")
    register = image_actions.add_parser(
        "register", help="run IMAGE as a local command (it gets `train` or `serve` appended)"
    )
    register.add_argument("image", help="the image name requests use, e.g. my-algo:1")
    register.add_argument("--command", required=True, help='e.g. "python /src/entry.py"')
    register.add_argument("--directory", default=".", help="where the command runs")
    remove = image_actions.add_parser("remove", help="forget a registered image")
    remove.add_argument("image")
    args = parser.parse_args(argv)
    result: int = args.run(args)
    return result
