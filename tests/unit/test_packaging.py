"""The set-up commands, CI entry point and systemd units stay consistent and well formed."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = [ROOT / ".ci" / "run", ROOT / "packaging" / "install.sh", ROOT / "packaging" / "test.sh"]
UNITS = {
    "edgekube-server.service": "/usr/local/bin/edgekube server",
    "edgekube-agent.service": "/usr/local/bin/edgekube agent",
}
REQUIRED_KEYS = {
    "Unit": {"Description", "After"},
    "Service": {"Type", "ExecStart", "Restart", "RestartSec", "LimitNOFILE", "KillMode", "TimeoutStopSec"},
    "Install": {"WantedBy"},
}


def setup_commands() -> list[str]:
    """The commands of the code blocks in the README's "## Set up" section, one per block."""
    text = (ROOT / "README.md").read_text()
    match = re.search(r"^## Set up\n(.*?)(?=^## )", text, re.S | re.M)
    assert match, "README.md has no '## Set up' section"
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", match.group(1), re.S | re.M)
    commands = []
    for block in blocks:
        lines = [line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]
        assert len(lines) == 1, f"a set-up code block holds one command, not {lines}"
        commands.append(lines[0])
    return commands


def ci_commands() -> list[str]:
    """What .ci/run runs, leaving out the shebang, comments, `set` and the `cd` to the root."""
    commands = []
    for raw in (ROOT / ".ci" / "run").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("set ") or line.startswith("cd "):
            continue
        commands.append(line)
    return commands


def test_readme_has_exactly_two_setup_commands() -> None:
    assert setup_commands() == ["sh packaging/install.sh", "bash packaging/test.sh"]


def test_ci_runs_the_readme_test_command() -> None:
    assert ci_commands() == [setup_commands()[1]]


def test_setup_commands_name_scripts_that_exist() -> None:
    for command in setup_commands():
        script = ROOT / shlex.split(command)[1]
        assert script.is_file(), f"{command}: no {script}"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_script_syntax(script: Path) -> None:
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    if script.name == "install.sh":  # the README runs it with sh (dash on Debian)
        result = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
    shellcheck = shutil.which("shellcheck")
    if shellcheck is not None:  # optional: not every machine has it
        result = subprocess.run([shellcheck, str(script)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit file as {section: {key: [values]}}; fails on any line of another shape."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        where = f"{path.name}:{number}: {raw!r}"
        if not line or line.startswith(("#", ";")):
            continue
        header = re.fullmatch(r"\[([A-Za-z]+)\]", line)
        if header:
            assert header.group(1) not in sections, f"{where}: section repeated"
            current = sections.setdefault(header.group(1), {})
            continue
        pair = re.fullmatch(r"([A-Za-z][A-Za-z0-9]*)\s*=\s*(.*)", line)
        assert pair, f"{where}: neither a section header, a comment nor key=value"
        assert not line.endswith("\\"), f"{where}: continuation lines are not used"
        assert current is not None, f"{where}: key before the first section"
        current.setdefault(pair.group(1), []).append(pair.group(2))
    return sections


@pytest.mark.parametrize("name", sorted(UNITS))
def test_systemd_unit_parses(name: str) -> None:
    unit = parse_unit(ROOT / "systemd" / name)
    for section, keys in REQUIRED_KEYS.items():
        assert section in unit, f"{name}: no [{section}]"
        missing = keys - set(unit[section])
        assert not missing, f"{name}: [{section}] lacks {sorted(missing)}"
    service = unit["Service"]
    assert service["ExecStart"] == [UNITS[name]]
    assert service["Restart"] == ["always"]
    assert int(service["LimitNOFILE"][0]) >= 65536
    assert "network-online.target" in unit["Unit"]["After"][0].split()
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def test_install_script_installs_the_server_unit() -> None:
    text = (ROOT / "packaging" / "install.sh").read_text()
    assert re.search(r"^UNIT=edgekube-server\.service$", text, re.M)
    assert (ROOT / "systemd" / "edgekube-server.service").is_file()
