"""Pagination tokens: round trips, and every kind of bad token is InvalidToken, nothing else."""

from __future__ import annotations

import random
import string

import pytest

from sagestack.spec.pagination import MAX_TOKEN_LENGTH, InvalidToken, TokenCodec

PAYLOAD = {"c": [1_700_000_000.25, "my-model"], "f": "0123456789abcdef"}


def test_round_trip_is_opaque_url_safe_and_short() -> None:
    codec = TokenCodec(b"secret")
    token = codec.encode(PAYLOAD)
    assert codec.decode(token) == PAYLOAD
    assert set(token) <= set(string.ascii_letters + string.digits + "-_")
    assert "my-model" not in token and len(token) < 200


def test_token_from_another_secret_is_rejected() -> None:
    token = TokenCodec(b"one").encode(PAYLOAD)
    with pytest.raises(InvalidToken):
        TokenCodec(b"two").decode(token)


def test_empty_secret_and_oversized_payload_are_refused() -> None:
    with pytest.raises(ValueError):
        TokenCodec(b"")
    with pytest.raises(ValueError):
        TokenCodec(b"s").encode({"c": "x" * MAX_TOKEN_LENGTH})


@pytest.mark.parametrize(
    "token",
    ["", "=", "a", "ab", "abc", "a" * 22, "é" * 30, "abc\x00def", " " * 40, "A" * 100_000, "%2F"],
)
def test_malformed_tokens(token: str) -> None:
    with pytest.raises(InvalidToken):
        TokenCodec(b"secret").decode(token)


def test_non_object_payload_with_a_valid_signature_is_rejected() -> None:
    codec = TokenCodec(b"secret")
    with pytest.raises(InvalidToken):
        codec.decode(codec.encode([1]))  # type: ignore[arg-type]


def test_any_change_to_a_token_is_detected() -> None:
    codec = TokenCodec(b"secret")
    valid = codec.encode(PAYLOAD)
    for i, char in enumerate(valid):
        for other in string.ascii_letters + string.digits + "-_":
            if other != char:
                with pytest.raises(InvalidToken):
                    codec.decode(valid[:i] + other + valid[i + 1 :])


def test_random_and_mutated_tokens_only_ever_raise_invalid_token() -> None:
    codec = TokenCodec(b"secret")
    valid = codec.encode(PAYLOAD)
    rng = random.Random(20240601)
    alphabet = string.printable + "é€\u0000\udcff" + string.ascii_letters * 4
    for _ in range(3000):
        choice = rng.randrange(4)
        if choice == 0:
            token = "".join(rng.choice(alphabet) for _ in range(rng.randrange(80)))
        elif choice == 1:  # insert or delete characters
            i = rng.randrange(len(valid))
            token = valid[:i] + rng.choice(["", "A", "-_", "=="]) + valid[i + 1 :]
        elif choice == 2:  # truncate or extend
            cut = rng.randrange(len(valid))
            token = valid[:cut] if rng.random() < 0.5 else valid + valid[:cut]
        else:
            token = valid.swapcase()
        if token == valid:
            continue
        with pytest.raises(InvalidToken):
            codec.decode(token)
