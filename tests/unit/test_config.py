"""Settings come from SAGESTACK_* variables, and command-line flags win over them."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagestack.config import DEFAULT_PORT, Settings


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert (settings.host, settings.port, settings.account_id) == (
        "127.0.0.1",
        DEFAULT_PORT,
        "000000000000",
    )
    assert settings.data_dir == Path.home() / ".sagestack"
    assert settings.allow_reset is False


def test_environment_then_flags() -> None:
    env = {
        "SAGESTACK_HOST": "0.0.0.0",
        "SAGESTACK_PORT": "7000",
        "SAGESTACK_DATA_DIR": "/tmp/x",
        "SAGESTACK_ACCOUNT_ID": "123456789012",
        "SAGESTACK_ALLOW_RESET": "1",
    }
    settings = Settings.from_env(env, port=7001, host=None)
    assert (settings.host, settings.port, settings.account_id) == ("0.0.0.0", 7001, "123456789012")
    assert settings.data_dir == Path("/tmp/x")
    assert settings.allow_reset is True
    assert settings.url == "http://127.0.0.1:7001"
    assert settings.database_url == "sqlite:////tmp/x/sagestack.db"


def test_account_id_must_be_twelve_digits() -> None:
    with pytest.raises(ValueError, match="12 digits"):
        Settings.from_env({"SAGESTACK_ACCOUNT_ID": "42"})
