"""Listing pages with delimiters over a real local index."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagestack.services.s3.listing import list_keys
from sagestack.storage.local import LocalObjectStore

KEYS = ["a", "b/1", "b/2", "b/c/3", "c/1", "d", "e/\U0001f600/1"]


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    store = LocalObjectStore(tmp_path / "objects")
    store.ensure_bucket("bkt")
    for key in KEYS:
        store.put_object("bkt", key, b"x")
    return store


def page(
    store: LocalObjectStore, prefix: str, delimiter: str, after: str, limit: int
) -> tuple[list[str], list[str], bool]:
    listing = list_keys(
        lambda start, n: store.index.objects_after("bkt", prefix, start, n),
        prefix=prefix,
        delimiter=delimiter,
        after=after,
        limit=limit,
    )
    return [o.key for o in listing.contents], listing.prefixes, listing.truncated


def test_everything_without_delimiter(store: LocalObjectStore) -> None:
    assert page(store, "", "", "", 1000) == (KEYS, [], False)


def test_delimiter_rolls_up_prefixes(store: LocalObjectStore) -> None:
    assert page(store, "", "/", "", 1000) == (["a", "d"], ["b/", "c/", "e/"], False)
    assert page(store, "b/", "/", "", 1000) == (["b/1", "b/2"], ["b/c/"], False)


def test_limit_counts_prefixes_and_truncates(store: LocalObjectStore) -> None:
    assert page(store, "", "/", "", 2) == (["a"], ["b/"], True)
    assert page(store, "", "", "", len(KEYS)) == (KEYS, [], False)
    assert page(store, "", "", "b/2", 2) == (["b/c/3", "c/1"], [], True)


def test_multi_character_delimiter(store: LocalObjectStore) -> None:
    assert page(store, "", "/1", "", 1000) == (
        ["a", "b/2", "b/c/3", "d"],
        ["b/1", "c/1", "e/\U0001f600/1"],
        False,
    )
