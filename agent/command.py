"""`edgekube agent`: run the node agent until SIGTERM or SIGINT.

    edgekube agent --server https://10.0.0.2:6443 --token T --ca-file ca.crt --node-ip 10.0.0.7

`add_parser` adds the subcommand to the `edgekube` command; `run(args)` runs it. The
same is reachable as `python -m agent` (see `main`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

from agent.configuring import add_agent_flags, load_agent_settings
from agent.settings import AgentSettings
from edgekube.client import ConfigError
from edgekube.logging import configure
from edgekube.settings_sources import SettingsError

DESCRIPTION = (
    "Run the node agent: register this machine as a Node, renew its Lease, and run the pods bound to it "
    "with Podman. Pods keep running while the server is unreachable and across agent restarts. Every flag "
    "can also be set in the config file (key = flag name) or as EDGEKUBE_<FLAG_NAME> in the environment."
)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("agent", help="run the node agent (pods on this machine)", description=DESCRIPTION)
    add_agent_flags(parser)
    return parser


async def _until_signalled(settings: AgentSettings) -> None:
    from agent.running import run_agent

    main = asyncio.create_task(run_agent(settings))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, main.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await main


def run(args: argparse.Namespace) -> int:
    try:
        settings = load_agent_settings(args)
    except SettingsError as err:
        print(f"edgekube agent: {err}", file=sys.stderr)
        return 2
    configure(settings.logging.log_format, settings.logging.log_level)
    # Imported here: `edgekube --help` and `edgekube server` need none of the agent's machinery.
    from agent.running import AgentError
    from agent.runtime.errors import ContainerRuntimeError

    try:
        try:
            import uvloop
        except ImportError:
            asyncio.run(_until_signalled(settings))
        else:
            uvloop.run(_until_signalled(settings))
    except (AgentError, ConfigError) as err:
        print(f"edgekube agent: {err}", file=sys.stderr)
        return 2
    except ContainerRuntimeError as err:
        print(f"edgekube agent: the container runtime is not usable: {err}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m agent ...`: the agent without the rest of the `edgekube` command."""
    parser = argparse.ArgumentParser(prog="edgekube agent", description=DESCRIPTION)
    add_agent_flags(parser)
    return run(parser.parse_args(sys.argv[1:] if argv is None else list(argv)))
