"""`edgekube agent` settings: flags over environment over config file; labels; errors."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from agent.configuring import add_agent_flags, load_agent_settings
from edgekube.settings_sources import SettingsError


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_agent_flags(parser)
    return parser.parse_args(list(argv))


def test_precedence_flags_env_file(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("server: https://file:6443\ntoken: from-file\nnode-label: [zone=a]\nhttps-listen-port: 6443\n")
    args = parse("--config", str(config), "--node-label", "rack=2", "--node-ip", "10.0.0.9", "--crash-backoff", "1")
    settings = load_agent_settings(args, environ={"EDGEKUBE_TOKEN": "from-env", "EDGEKUBE_NODE_IP": "10.0.0.8"})
    assert settings.connection.server == "https://file:6443"
    assert settings.connection.token == "from-env"
    assert settings.node.ip == "10.0.0.9"
    assert settings.node.labels == {"zone": "a", "rack": "2"}
    assert settings.pods.backoff_initial == 1.0
    assert settings.runtime.oci_runtime == "runc" and settings.streaming.enabled


def test_token_file_and_switches(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("secret\n")
    settings = load_agent_settings(
        parse("--token-file", str(token), "--disable-streaming", "--runtime", "crun", "--config", "/dev/null"),
        environ={},
    )
    assert settings.connection.token == "secret"
    assert settings.streaming.enabled is False and settings.runtime.oci_runtime == "crun"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--node-label", "novalue"), "expected key=value"),
        (("--max-pods", "many"), "bad value for max-pods"),
        (("--log-format", "xml"), "log-format"),
    ],
)
def test_bad_values_name_the_flag(argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_agent_settings(parse(*argv, "--config", "/dev/null"), environ={})


def test_unknown_config_keys_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("node-nmae: typo\n")
    with pytest.raises(SettingsError, match="unknown keys node-nmae"):
        load_agent_settings(parse("--config", str(config)), environ={})
