"""What the server's and the agent's settings loaders share: the config file, the
environment variable names, booleans, and the error they raise.

Each loader keeps its own option table (they address different settings dataclasses);
the sources and their spelling are the same for both, so a device can run both from one
/etc/edgekube/config.yaml and one set of EDGEKUBE_* variables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class SettingsError(ValueError):
    """A setting from any source could not be understood."""


def env_name(flag: str) -> str:
    """`https-listen-port` -> `EDGEKUBE_HTTPS_LISTEN_PORT`."""
    return "EDGEKUBE_" + flag.replace("-", "_").upper()


def parse_bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"not a boolean: {text!r}")


def read_config_file(path: Path, *, required: bool) -> dict[str, Any]:
    """The YAML mapping of flag names to values; {} when an optional file is absent."""
    if not path.exists():
        if required:
            raise SettingsError(f"config file {path} does not exist")
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as err:
        raise SettingsError(f"config file {path}: {err}") from err
    if not isinstance(data, dict):
        raise SettingsError(f"config file {path}: expected a mapping of flag names to values")
    return data
