"""A training host's job root, laid out exactly as SageMaker lays out /opt/ml, filled from and
emptied into the object store.

`lay_out` writes the three config files and the empty directories; `download_channels` fetches
each channel's objects (S3Prefix or ManifestFile, FullyReplicated or ShardedByS3Key);
`extract_archive` unpacks the SDK's sourcedir.tar.gz safely; `pack` makes model.tar.gz /
output.tar.gz with the files at the archive root.
"""

from __future__ import annotations

import json
import os
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from sagestack.storage.base import ObjectStore, split_s3_uri

DIRECTORIES = (
    "input/config",
    "input/data",
    "model",
    "output/data",
    "output/intermediate",
    "code",
    "checkpoints",
)


class InputError(Exception):
    """A channel or source the job names cannot be read: the job fails with a ClientError."""


def lay_out(root: Path, spec: Mapping[str, Any], hosts: Sequence[str], host: str) -> None:
    for directory in DIRECTORIES:
        (root / directory).mkdir(parents=True, exist_ok=True)
    channels = {
        channel["ChannelName"]: {
            "TrainingInputMode": channel.get("InputMode")
            or spec["AlgorithmSpecification"].get("TrainingInputMode", "File"),
            "S3DistributionType": channel["DataSource"]
            .get("S3DataSource", {})
            .get("S3DataDistributionType", "FullyReplicated"),
            "RecordWrapperType": channel.get("RecordWrapperType", "None"),
            **({"ContentType": channel["ContentType"]} if "ContentType" in channel else {}),
            **(
                {"CompressionType": channel["CompressionType"]}
                if "CompressionType" in channel
                else {}
            ),
        }
        for channel in spec.get("InputDataConfig", [])
    }
    resources = spec["ResourceConfig"]
    config = {
        "hyperparameters.json": spec.get("HyperParameters", {}),
        "resourceconfig.json": {
            "current_host": host,
            "current_instance_type": resources.get("InstanceType", "local"),
            "current_group_name": "homogeneousCluster",
            "hosts": list(hosts),
            "instance_groups": [
                {
                    "instance_group_name": "homogeneousCluster",
                    "instance_type": resources.get("InstanceType", "local"),
                    "hosts": list(hosts),
                }
            ],
            "network_interface_name": "eth0",
        },
        "inputdataconfig.json": channels,
    }
    for name, value in config.items():
        (root / "input" / "config" / name).write_text(json.dumps(value))
    for channel in channels:
        (root / "input" / "data" / channel).mkdir(exist_ok=True)


def _within(directory: Path, relative: str) -> Path:
    """`directory / relative`, refusing any key that would leave `directory`."""
    parts = [p for p in PurePosixPath(relative).parts if p not in ("", "/", ".")]
    if not parts or ".." in parts:
        raise InputError(f"The object key {relative!r} cannot be written under the channel.")
    return directory.joinpath(*parts)


def _channel_objects(objects: ObjectStore, source: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(bucket, key, path relative to the channel) of every object a data source names."""
    bucket, prefix = split_s3_uri(source["S3Uri"])
    if source.get("S3DataType", "S3Prefix") == "ManifestFile":
        with objects.open_object(bucket, prefix) as handle:
            manifest = json.load(handle)
        if not manifest or not isinstance(manifest[0], dict) or "prefix" not in manifest[0]:
            raise InputError(f"The manifest {source['S3Uri']} has no prefix entry first.")
        base_bucket, base = split_s3_uri(manifest[0]["prefix"])
        return [(base_bucket, base + str(key), str(key)) for key in manifest[1:]]
    if source.get("S3DataType", "S3Prefix") != "S3Prefix":
        raise InputError(f"S3DataType {source['S3DataType']} is not supported by sagestack yet.")
    found = []
    for info in objects.list_objects(bucket, prefix):
        if info.key.endswith("/"):
            continue  # a "folder" marker object
        relative = info.key[len(prefix) :].lstrip("/") or PurePosixPath(info.key).name
        found.append((bucket, info.key, relative))
    return found


def download_channels(
    objects: ObjectStore, spec: Mapping[str, Any], root: Path, host_index: int, host_count: int
) -> None:
    for channel in spec.get("InputDataConfig", []):
        source = channel["DataSource"].get("S3DataSource")
        if source is None:
            raise InputError(
                f"Channel {channel['ChannelName']}: only S3 data sources are supported."
            )
        directory = root / "input" / "data" / channel["ChannelName"]
        what = f"{channel['ChannelName']} channel"
        download_source(objects, source, directory, host_index, host_count, what=what)


def download_source(
    objects: ObjectStore,
    source: Mapping[str, Any],
    directory: Path,
    host_index: int,
    host_count: int,
    *,
    what: str,
) -> None:
    """An S3 data source (S3Uri, S3DataType, S3DataDistributionType) into `directory`; this
    host's share of the objects when it is ShardedByS3Key. `what` names it in errors."""
    try:
        found = _channel_objects(objects, source)
    except (KeyError, ValueError, OSError) as error:
        raise InputError(f"{what}: {error}") from None
    if not found:
        raise InputError(
            f'No S3 objects found under S3 URL "{source["S3Uri"]}" given in input data '
            f"source. Please ensure that the bucket exists in the selected region ({what})."
        )
    if source.get("S3DataDistributionType") == "ShardedByS3Key":
        found = sorted(found, key=lambda item: item[1])[host_index::host_count]
    for bucket, key, relative in found:
        objects.download_file(bucket, key, _within(directory, relative))


def download_prefix(objects: ObjectStore, uri: str, directory: Path) -> None:
    """Everything under an S3 prefix into `directory` (checkpoints)."""
    bucket, prefix = split_s3_uri(uri)
    if not objects.bucket_exists(bucket):
        return
    for info in objects.list_objects(bucket, prefix):
        relative = info.key[len(prefix) :].lstrip("/")
        if relative and not relative.endswith("/"):
            objects.download_file(bucket, info.key, _within(directory, relative))


class DirectorySync:
    """Keeps an S3 prefix up to date with a directory (checkpoints while a job trains): each
    `sync` uploads the files that are new or changed since the last one."""

    def __init__(self, objects: ObjectStore, directory: Path, uri: str) -> None:
        self._objects = objects
        self._directory = directory
        self._bucket, prefix = split_s3_uri(uri)
        self._prefix = prefix.rstrip("/")
        self._sent: dict[Path, tuple[int, int]] = {}

    def sync(self) -> None:
        for path in sorted(self._directory.rglob("*")):
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # removed while we looked
            if not path.is_file() or self._sent.get(path) == (stat.st_mtime_ns, stat.st_size):
                continue
            key = f"{self._prefix}/{path.relative_to(self._directory).as_posix()}".lstrip("/")
            self._objects.upload_file(self._bucket, key, path)
            self._sent[path] = (stat.st_mtime_ns, stat.st_size)


def extract_archive(objects: ObjectStore, uri: str, directory: Path) -> None:
    """Unpack an archive (s3:// URI: sourcedir.tar.gz, model.tar.gz) into `directory`: regular
    files and directories only, nothing outside it (tarfile's "data" filter refuses escapes,
    absolute paths and links that leave it)."""
    bucket, key = split_s3_uri(uri)
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory.parent) as scratch:
        archive = Path(scratch) / "archive.tar.gz"
        try:
            objects.download_file(bucket, key, archive)
        except Exception as error:
            raise InputError(f"Could not download the archive {uri}: {error}") from None
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(directory, filter="data")
        except (tarfile.TarError, OSError) as error:
            raise InputError(f"The archive {uri} cannot be extracted: {error}") from None


def pack(directory: Path, archive: Path) -> bool:
    """Write `directory`'s contents (files at the archive root) to a .tar.gz; whether there
    was anything to pack (an empty archive is written either way)."""
    entries = sorted(directory.rglob("*"))
    with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
        for path in entries:
            tar.add(path, arcname=path.relative_to(directory).as_posix(), recursive=False)
    return bool(entries)


def hosts_file(path: Path, hosts: Sequence[str]) -> Path:
    """An /etc/hosts for the workload: the machine's own entries plus every `algo-N` on
    loopback, so the hosts of one job can reach each other by name."""
    try:
        original = Path("/etc/hosts").read_text()
    except OSError:
        original = "127.0.0.1 localhost\n"
    path.write_text(original.rstrip("\n") + "\n" + "".join(f"127.0.0.1 {h}\n" for h in hosts))
    os.chmod(path, 0o644)
    return path


def data_source_objects(
    objects: ObjectStore, source: Mapping[str, Any]
) -> list[tuple[str, str, str]]:
    """(bucket, key, key relative to the prefix) of every object an S3 data source names
    (S3Prefix or ManifestFile), in key order: a transform job's input objects. InputError when
    the source cannot be read."""
    try:
        return _channel_objects(objects, source)
    except (KeyError, ValueError, OSError) as error:
        raise InputError(f"{source.get('S3Uri')}: {error}") from None
