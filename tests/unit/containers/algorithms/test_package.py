"""The package surface: the algorithm names, dispatch, hyperparameter spellings, and which
files of a channel count as data."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagestack.containers.algorithms import ALGORITHMS, AlgorithmError, load_model, train
from sagestack.containers.algorithms.data import data_files, parse_content_type
from sagestack.containers.algorithms.hyperparameters import Hyperparameters


def test_the_three_algorithms() -> None:
    assert frozenset({"xgboost", "kmeans", "linear-learner"}) == ALGORITHMS


def test_unknown_algorithm(tmp_path: Path) -> None:
    with pytest.raises(AlgorithmError, match="Unknown built-in algorithm 'pca'"):
        train("pca", {}, {}, {}, tmp_path, tmp_path)
    with pytest.raises(AlgorithmError, match="Unknown"):
        load_model("pca", tmp_path)


def test_hyperparameters_accept_json_encoded_and_sdk_list_spellings() -> None:
    hp = Hyperparameters(
        {"num_round": '"10"', "objective": '"binary:logistic"', "eval_metrics": "['msd', 'ssd']"}
    )
    assert hp.integer("num_round") == 10
    assert hp.text("objective", "") == "binary:logistic"
    assert hp.string_list("eval_metrics", []) == ["msd", "ssd"]
    assert hp.integer("epochs", 1) == 1
    assert Hyperparameters({"epochs": "auto"}).integer("epochs", 15) == 15
    with pytest.raises(AlgorithmError, match="is not an integer"):
        Hyperparameters({"k": "2.5"}).integer("k")
    with pytest.raises(AlgorithmError, match="below 1"):
        Hyperparameters({"k": "0"}).integer("k", minimum=1)
    with pytest.raises(AlgorithmError, match="not true or false"):
        Hyperparameters({"use_bias": "maybe"}).boolean("use_bias", True)


def test_data_files_skip_hidden_and_underscore_names(tmp_path: Path) -> None:
    for name in ("a.csv", "sub/b.csv", "_SUCCESS", ".hidden", "_temporary/c.csv"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("1,2\n")
    assert [p.relative_to(tmp_path).as_posix() for p in data_files(tmp_path)] == [
        "a.csv",
        "sub/b.csv",
    ]
    assert data_files(tmp_path / "absent") == []


def test_content_type_spellings() -> None:
    assert parse_content_type("text/csv; label_size=0") == ("text/csv", {"label_size": "0"})
    assert parse_content_type("text/x-libsvm")[0] == "text/libsvm"
    assert parse_content_type("CSV")[0] == "text/csv"
    assert parse_content_type("recordio-protobuf")[0] == "application/x-recordio-protobuf"
    assert parse_content_type(None) == ("", {})
