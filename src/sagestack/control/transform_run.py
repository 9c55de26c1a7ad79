"""One transform job's records, from its input objects through its replicas into its output
objects.

The job's thread reads each object as a stream (gunzipped when CompressionType is Gzip), cuts it
into payloads (`transform_records`), and hands them to a thread pool with one thread per pooled
connection, so every connection has a request in flight; a window of twice that many payloads
bounds what is held in memory. Responses are written in input order into a local file per object,
which is uploaded as `<S3OutputPath>/<key relative to the input prefix>.out` once its last
response is in. The first request that fails for good fails the job, named by object, as
SageMaker's data log words it.
"""

from __future__ import annotations

import gzip
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from sagestack.control.transform_client import InvocationFailed, ReplicaClient
from sagestack.control.transform_data import DataProcessingError, DataProcessor
from sagestack.control.transform_records import Payload, RecordError, payloads
from sagestack.storage.base import ObjectStore

#: Seconds between progress lines in the data log.
PROGRESS_SECONDS = 2.0


class TransformFailed(Exception):
    """The job fails with this FailureReason (already written to the data log)."""


@dataclass(frozen=True, slots=True)
class Source:
    bucket: str
    key: str
    #: The key relative to the input prefix: the output object's name, less `.out`.
    relative: str


@dataclass(frozen=True, slots=True)
class Plan:
    split: str
    multi: bool
    #: Bytes per payload; None for no limit.
    limit: int | None
    gzip: bool
    #: AssembleWith Line: every response (or output record) ends with a line break.
    line: bool
    processor: DataProcessor
    output_bucket: str
    output_prefix: str


@dataclass(slots=True)
class Progress:
    records_done: int = 0
    records_read: int = 0
    objects_done: int = 0
    bytes_read: int = 0
    bytes_total: int = 0
    reading_done: bool = False
    outputs: list[str] = field(default_factory=list)

    def line(self, objects: int) -> str:
        total = str(self.records_read) if self.reading_done else f">={self.records_read}"
        share = 100.0 * self.bytes_read / self.bytes_total if self.bytes_total else 100.0
        return (
            f"[sagemaker logs]: Progress: {self.records_done}/{total} records transformed, "
            f"{self.objects_done}/{objects} objects done, {share:.0f}% of the input read"
        )


class _Counted:
    """A stream that counts the bytes read from it (progress over compressed input too)."""

    def __init__(self, stream: BinaryIO, progress: Progress) -> None:
        self._stream = stream
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._progress.bytes_read += len(data)
        return data


@dataclass(slots=True)
class _Pending:
    source: int
    payload: Payload | None  # None: the object's end
    reply: Future[bytes] | None = None


class TransformRun:
    def __init__(
        self,
        objects: ObjectStore,
        plan: Plan,
        client: ReplicaClient,
        *,
        sources: Sequence[Source],
        sizes: Sequence[int],
        workdir: Path,
        log: Callable[[str], None],
        stop_requested: Callable[[], bool],
    ) -> None:
        self.objects = objects
        self.sources = sources
        self.plan = plan
        self.client = client
        self.workdir = workdir
        self.log = log
        self.stop_requested = stop_requested
        self.progress = Progress(bytes_total=sum(sizes))
        self._last_report = time.monotonic()

    def run(self) -> bool:
        """Transform every object; False when the job was stopped first. TransformFailed."""
        width = len(self.client.connections)
        window: deque[_Pending] = deque()
        outputs: dict[int, BinaryIO] = {}
        with (
            ThreadPoolExecutor(width, thread_name_prefix="transform") as pool,
            ExitStack() as files,
        ):
            try:
                for pending in self._payloads():
                    if pending.payload is not None:
                        pending.reply = pool.submit(self._invoke, pending.payload)
                    window.append(pending)
                    while len(window) > 2 * width or (window and _ready(window[0])):
                        if not self._write(window.popleft(), outputs, files):
                            return False
                while window:
                    if not self._write(window.popleft(), outputs, files):
                        return False
            finally:
                for pending in window:
                    if pending.reply is not None:
                        pending.reply.cancel()
        self.log(self.progress.line(len(self.sources)))
        return True

    def _payloads(self) -> Iterator[_Pending]:
        plan = self.plan
        keep = plan.processor.active
        for index, source in enumerate(self.sources):
            with self.objects.open_object(source.bucket, source.key) as raw:
                stream: BinaryIO = _Counted(raw, self.progress)  # type: ignore[assignment]
                if plan.gzip:
                    stream = gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[assignment]
                try:
                    for payload in payloads(
                        stream, plan.split, plan.multi, plan.limit, keep_parts=keep
                    ):
                        self.progress.records_read += payload.records
                        yield _Pending(index, self._prepared(payload))
                except (RecordError, DataProcessingError, OSError, EOFError) as error:
                    raise TransformFailed(self._fail(source, str(error))) from None
            yield _Pending(index, None)
        self.progress.reading_done = True

    def _prepared(self, payload: Payload) -> Payload:
        processor = self.plan.processor
        if not processor.filters_input:
            return payload
        sent = [processor.prepare(part) for part in payload.parts]
        joiner = b"\n" if self.plan.split == "Line" else b""
        body = joiner.join(sent) + joiner if self.plan.multi else sent[0]
        return Payload(body, payload.records, payload.parts)

    def _invoke(self, payload: Payload) -> bytes:
        return self.client.invoke(payload.body)

    def _write(self, pending: _Pending, outputs: dict[int, BinaryIO], files: ExitStack) -> bool:
        source = self.sources[pending.source]
        if pending.source not in outputs:
            path = _output_path(self.workdir, pending.source)
            outputs[pending.source] = files.enter_context(path.open("wb"))
        if pending.payload is None:
            outputs.pop(pending.source).close()
            self._upload(source, pending.source)
            return True
        assert pending.reply is not None and pending.payload is not None
        while True:
            if self.stop_requested():
                return False
            try:
                response = pending.reply.result(timeout=0.5)
                break
            except TimeoutError:
                self._report()
            except InvocationFailed as error:
                raise TransformFailed(self._failed_request(source, error)) from None
        handle = outputs[pending.source]
        processor = self.plan.processor
        if processor.per_record_output:
            try:
                records = processor.finish(pending.payload.parts, response)
            except DataProcessingError as error:
                raise TransformFailed(self._fail(source, str(error))) from None
            separator = b"\n" if self.plan.line else b""
            handle.write(b"".join(record + separator for record in records))
        else:
            handle.write(response)
            if self.plan.line and response and not response.endswith(b"\n"):
                handle.write(b"\n")
        self.progress.records_done += pending.payload.records
        self._report()
        return not self.stop_requested()

    def _upload(self, source: Source, index: int) -> None:
        prefix = self.plan.output_prefix.strip("/")
        key = f"{prefix}/{source.relative}.out" if prefix else f"{source.relative}.out"
        self.objects.upload_file(self.plan.output_bucket, key, _output_path(self.workdir, index))
        _output_path(self.workdir, index).unlink(missing_ok=True)
        self.progress.objects_done += 1
        self.progress.outputs.append(key)
        self.log(
            f"[sagemaker logs]: {source.bucket}/{source.key}: transformed into "
            f"s3://{self.plan.output_bucket}/{key}"
        )

    def _report(self) -> None:
        now = time.monotonic()
        if now - self._last_report >= PROGRESS_SECONDS:
            self._last_report = now
            self.log(self.progress.line(len(self.sources)))

    def _fail(self, source: Source, detail: str) -> str:
        where = f"{source.bucket}/{source.key}"
        self.log(f"[sagemaker logs]: {where}: {detail}")
        return f"ClientError: See job logs for more information. {where}: {detail}"[:1024]

    def _failed_request(self, source: Source, error: InvocationFailed) -> str:
        where = f"{source.bucket}/{source.key}"
        self.log(f"[sagemaker logs]: {where}: {error.detail}")
        if error.status is None:
            return f"ClientError: See job logs for more information. {where}: {error.detail}"
        self.log(f"[sagemaker logs]: {where}: ")
        self.log(f"[sagemaker logs]: {where}: Message:")
        for line in error.message.splitlines()[:20]:
            self.log(f"[sagemaker logs]: {where}: {line}")
        message = " ".join(error.message.split())[:600]
        return (
            f"ClientError: See job logs for more information. {where}: {error.detail}. "
            f"Message: {message}"
        )[:1024]


def _output_path(workdir: Path, index: int) -> Path:
    return workdir / f"output-{index}"


def _ready(pending: _Pending) -> bool:
    return pending.reply is None or pending.reply.done()
