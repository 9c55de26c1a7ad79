"""Job roots as /opt/ml: config files, channel downloads, safe source extraction, packing."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from sagestack.control.job_root import (
    InputError,
    download_channels,
    extract_archive,
    lay_out,
    pack,
)
from sagestack.storage.local import LocalObjectStore


def spec(**channel: Any) -> dict[str, Any]:
    source = {"S3DataType": "S3Prefix", "S3Uri": "s3://bkt/data", **channel}
    return {
        "AlgorithmSpecification": {"TrainingInputMode": "File"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 2},
        "HyperParameters": {"epochs": "3"},
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "ContentType": "text/csv",
                "DataSource": {"S3DataSource": source},
            }
        ],
    }


@pytest.fixture
def objects(tmp_path: Path) -> LocalObjectStore:
    store = LocalObjectStore(tmp_path / "objects")
    store.ensure_bucket("bkt")
    for name in ("a.csv", "b.csv", "c.csv", "nested/d.csv"):
        store.put_object("bkt", f"data/{name}", name.encode())
    return store


def test_lay_out_writes_the_toolkit_config(tmp_path: Path) -> None:
    lay_out(tmp_path / "root", spec(), ["algo-1", "algo-2"], "algo-2")
    config = tmp_path / "root" / "input" / "config"
    assert json.loads((config / "hyperparameters.json").read_text()) == {"epochs": "3"}
    resources = json.loads((config / "resourceconfig.json").read_text())
    assert resources["current_host"] == "algo-2" and resources["hosts"] == ["algo-1", "algo-2"]
    channels = json.loads((config / "inputdataconfig.json").read_text())
    assert channels == {
        "train": {
            "TrainingInputMode": "File",
            "S3DistributionType": "FullyReplicated",
            "RecordWrapperType": "None",
            "ContentType": "text/csv",
        }
    }
    for directory in ("model", "output/data", "input/data/train", "code", "checkpoints"):
        assert (tmp_path / "root" / directory).is_dir()


def test_fully_replicated_and_sharded_channels(objects: LocalObjectStore, tmp_path: Path) -> None:
    whole = tmp_path / "whole"
    lay_out(whole, spec(), ["algo-1"], "algo-1")
    download_channels(objects, spec(), whole, 0, 1)
    files = sorted(
        p.relative_to(whole / "input/data/train").as_posix() for p in whole.rglob("*.csv")
    )
    assert files == ["a.csv", "b.csv", "c.csv", "nested/d.csv"]
    sharded = spec(S3DataDistributionType="ShardedByS3Key")
    seen = []
    for index in range(2):
        root = tmp_path / f"host{index}"
        lay_out(root, sharded, ["algo-1", "algo-2"], f"algo-{index + 1}")
        download_channels(objects, sharded, root, index, 2)
        seen.append(sorted(p.name for p in root.rglob("*.csv")))
    assert seen == [["a.csv", "c.csv"], ["b.csv", "d.csv"]]


def test_manifest_channel(objects: LocalObjectStore, tmp_path: Path) -> None:
    manifest = [{"prefix": "s3://bkt/data/"}, "a.csv", "nested/d.csv"]
    objects.put_object("bkt", "lists/train.manifest", json.dumps(manifest).encode())
    source = spec(S3DataType="ManifestFile", S3Uri="s3://bkt/lists/train.manifest")
    lay_out(tmp_path, source, ["algo-1"], "algo-1")
    download_channels(objects, source, tmp_path, 0, 1)
    assert sorted(p.name for p in tmp_path.rglob("*.csv")) == ["a.csv", "d.csv"]


def test_an_empty_channel_fails_as_sagemaker_does(
    objects: LocalObjectStore, tmp_path: Path
) -> None:
    empty = spec(S3Uri="s3://bkt/nothing-here")
    lay_out(tmp_path, empty, ["algo-1"], "algo-1")
    with pytest.raises(InputError, match="No S3 objects found under S3 URL"):
        download_channels(objects, empty, tmp_path, 0, 1)


def tar_of(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_source_archive_is_extracted_inside_code_only(
    objects: LocalObjectStore, tmp_path: Path
) -> None:
    code = tmp_path / "root" / "code"
    code.mkdir(parents=True)
    objects.put_object("bkt", "ok.tar.gz", tar_of(("train.py", b"print(1)"), ("lib/util.py", b"")))
    extract_archive(objects, "s3://bkt/ok.tar.gz", code)
    assert (code / "train.py").read_bytes() == b"print(1)" and (code / "lib" / "util.py").exists()
    objects.put_object("bkt", "evil.tar.gz", tar_of(("../../escaped.py", b"x")))
    with pytest.raises(InputError, match="cannot be extracted"):
        extract_archive(objects, "s3://bkt/evil.tar.gz", code)
    assert not list(tmp_path.rglob("escaped.py"))


def test_pack_puts_files_at_the_archive_root(tmp_path: Path) -> None:
    model = tmp_path / "model"
    (model / "sub").mkdir(parents=True)
    (model / "weights.bin").write_bytes(b"w")
    (model / "sub" / "config.json").write_text("{}")
    assert pack(model, tmp_path / "model.tar.gz")
    with tarfile.open(tmp_path / "model.tar.gz") as tar:
        assert sorted(tar.getnames()) == ["sub", "sub/config.json", "weights.bin"]
    assert not pack(tmp_path / "empty-dir-missing", tmp_path / "empty.tar.gz")
    with tarfile.open(tmp_path / "empty.tar.gz") as tar:
        assert tar.getnames() == []
