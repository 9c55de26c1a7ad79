"""JsonDocument: a stored JSON object, decoded on first read."""

from __future__ import annotations

import json

import pytest

from sagestack.store.documents import JsonDocument


def test_reads_like_the_object_it_holds() -> None:
    document = JsonDocument('{"A":1,"B":{"C":[1,2]}}')
    assert document == {"A": 1, "B": {"C": [1, 2]}}
    assert dict(document) == {"A": 1, "B": {"C": [1, 2]}}
    assert document["B"]["C"] == [1, 2]
    assert len(document) == 2
    assert "A" in document
    assert document.get("missing") is None


def test_text_passes_through_until_decoded_then_is_re_encoded() -> None:
    document = JsonDocument('{"A": 1}')
    assert document.to_json() == '{"A": 1}'
    document["A"]  # decode
    assert json.loads(document.to_json()) == {"A": 1}


def test_malformed_text_fails_on_first_read() -> None:
    document = JsonDocument("{not json")
    with pytest.raises(json.JSONDecodeError):
        document["A"]
