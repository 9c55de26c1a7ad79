"""The variables a training script sees, derived as the SageMaker training toolkit derives them."""

from __future__ import annotations

import json
from pathlib import Path

from sagestack.containers.training.environment import JobRoot, TrainingEnvironment, decoded


def root_with(tmp_path: Path, hyperparameters: dict[str, str]) -> JobRoot:
    config = tmp_path / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    (config / "resourceconfig.json").write_text(
        json.dumps({"current_host": "algo-2", "hosts": ["algo-1", "algo-2"]})
    )
    (config / "inputdataconfig.json").write_text(
        json.dumps({"train": {"TrainingInputMode": "File"}, "test": {}})
    )
    return JobRoot(tmp_path)


def test_values_decode_as_json_or_stay_text() -> None:
    assert decoded('"train.py"') == "train.py"
    assert decoded("5") == 5 and decoded("0.1") == 0.1 and decoded("true") is True
    assert decoded("gbtree") == "gbtree"


def test_toolkit_variables(tmp_path: Path) -> None:
    root = root_with(
        tmp_path,
        {
            "n-estimators": "5",
            "a": "x",
            "sagemaker_program": '"train.py"',
            "sagemaker_submit_directory": '"s3://b/k.tar.gz"',
            "sagemaker_region": '"eu-west-1"',
        },
    )
    environment = TrainingEnvironment.load(root)
    assert environment.setting("program") == "train.py"
    assert environment.user_args() == ["-a", "x", "--n-estimators", "5"]
    env = environment.variables(module_name="train", entry_point="train.py")
    assert env["SM_MODEL_DIR"] == str(tmp_path / "model")
    assert env["SM_CHANNELS"] == '["test","train"]'
    assert env["SM_CHANNEL_TRAIN"] == str(tmp_path / "input" / "data" / "train")
    assert json.loads(env["SM_HPS"]) == {"a": "x", "n-estimators": 5}
    assert env["SM_HP_N-ESTIMATORS"] == "5"
    assert env["SM_HOSTS"] == '["algo-1","algo-2"]' and env["SM_CURRENT_HOST"] == "algo-2"
    assert env["SM_CURRENT_HOST_RANK"] == "1" and env["SM_MASTER_ADDR"] == "algo-1"
    assert env["SM_USER_ENTRY_POINT"] == "train.py" and env["SAGEMAKER_REGION"] == "eu-west-1"
    assert json.loads(env["SM_USER_ARGS"]) == ["-a", "x", "--n-estimators", "5"]
    assert json.loads(env["SM_TRAINING_ENV"])["hosts"] == ["algo-1", "algo-2"]
