"""How the training runner launches the user's script, as the framework toolkits do."""

from __future__ import annotations

from pathlib import Path

from sagestack.containers.training.environment import TrainingEnvironment
from sagestack.containers.training.runner import script_command
from tests.unit.containers.training.test_environment import root_with


def command(tmp_path: Path, **hyperparameters: str) -> list[str]:
    root = root_with(tmp_path, {"sagemaker_program": '"train.py"', "lr": "0.1", **hyperparameters})
    root.code.mkdir(parents=True, exist_ok=True)
    (root.code / "train.py").write_text("")
    return script_command(TrainingEnvironment.load(root), "python")


def test_a_script_runs_with_the_users_hyperparameters_only(tmp_path: Path) -> None:
    assert command(tmp_path, sagemaker_mpi_enabled="false") == ["python", "train.py", "--lr", "0.1"]


def test_torch_distributed_launches_every_host_as_a_torchrun_node(tmp_path: Path) -> None:
    # root_with's host is algo-2 of two: node rank 1, algo-1 the master.
    assert command(tmp_path, sagemaker_torch_distributed_enabled="true") == [
        "python", "-m", "torch.distributed.run", "--nnodes", "2", "--nproc_per_node", "1",
        "--master_addr", "algo-1", "--master_port", "7777", "--node_rank", "1",
        "train.py", "--lr", "0.1",
    ]  # fmt: skip

    ddp = command(tmp_path / "ddp", sagemaker_pytorch_ddp_enabled="true")
    assert ddp[1:3] == ["-m", "torch.distributed.run"]
