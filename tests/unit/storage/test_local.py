"""The local object store's own mechanics: joined multipart content, copies, orphans."""

from __future__ import annotations

import io
from pathlib import Path

from sagestack.storage.joined import JoinedBlob
from sagestack.storage.local import LocalObjectStore
from sagestack.storage.local_index import Attributes

PARTS = [b"first part-", b"second-", b"", b"third and last"]


def test_joined_blob_reads_and_seeks_across_parts(tmp_path: Path) -> None:
    paths = []
    for index, data in enumerate(PARTS):
        path = tmp_path / f"part{index}"
        path.write_bytes(data)
        paths.append(path)
    whole = b"".join(PARTS)
    with io.BufferedReader(JoinedBlob(paths), 4) as joined:
        assert joined.read() == whole
        for start in range(len(whole)):
            joined.seek(start)
            assert joined.read(9) == whole[start : start + 9]
        joined.seek(-5, io.SEEK_END)
        assert joined.read() == whole[-5:]


def complete(store: LocalObjectStore, key: str) -> None:
    upload = store.create_upload("bkt", key, Attributes())
    parts = []
    for number, data in enumerate(PARTS, start=1):
        pending = store.begin()
        pending.write(data)
        parts.append(store.commit_part(upload, number, pending, pending.finish(), {}))
    store.complete_upload(upload, parts, "etag-4", Attributes(parts=len(parts)))


def test_multipart_objects_copy_and_survive_restart(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    store.ensure_bucket("bkt")
    complete(store, "joined")
    source = store.require_object("bkt", "joined")
    store.copy_object(source, "bkt", "copy", source.attributes)
    store.delete_object("bkt", "joined")
    store.close()
    reopened = LocalObjectStore(tmp_path / "objects")  # collects orphans on start
    with reopened.open_object("bkt", "copy") as handle:
        assert handle.read() == b"".join(PARTS)
    target = tmp_path / "out" / "copy.bin"
    reopened.download_file("bkt", "copy", target)
    assert target.read_bytes() == b"".join(PARTS)
    blobs = [p for p in (tmp_path / "objects" / "blobs").rglob("*") if p.is_file()]
    assert len(blobs) == len(PARTS)  # the copy's linked parts, nothing else


def test_unindexed_blobs_are_collected_on_start(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    store.ensure_bucket("bkt")
    store.put_object("bkt", "kept", b"kept")
    orphan = store.blob_path("ab" + "0" * 30)
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"renamed in, never indexed")
    store.close()
    LocalObjectStore(tmp_path / "objects")
    assert not orphan.exists()
    blobs = [p for p in (tmp_path / "objects" / "blobs").rglob("*") if p.is_file()]
    assert len(blobs) == 1
