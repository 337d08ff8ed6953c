"""`edgekube agent`: run the node agent until SIGTERM or SIGINT.

    edgekube agent --server https://10.0.0.2:6443 --token T --ca-file ca.crt --node-ip 10.0.0.7
    edgekube agent --cleanup      remove the pod network's links, routes, nft tables and state, then exit

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
    _add_flags(parser)
    return parser


def _add_flags(parser: argparse.ArgumentParser) -> None:
    add_agent_flags(parser)
    parser.add_argument(
        "--cleanup",
        action="store_true",
        help="remove this node's pod network (bridge, ekv* veths, ek-vxlan, routes with proto 101, edgekube* nft "
        "tables, <data-dir>/agent/network) in the current network namespace and exit; pods' containers stay",
    )


async def _cleanup(settings: AgentSettings) -> int:
    from agent.network.cleaning import clean_node

    removed = await clean_node(settings)
    for line in removed:
        print(f"removed {line}")
    if not removed:
        print("nothing to remove")
    return 0


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
    if getattr(args, "cleanup", False):
        return asyncio.run(_cleanup(settings))
    # Imported here: `edgekube --help` and `edgekube server` need none of the agent's machinery.
    from agent.running import AgentError
    from agent.runtime.errors import ContainerRuntimeError

    try:
        # The stdlib loop, not uvloop as the server: the agent's loop is rarely busy, and
        # uvloop costs ~1.7 MB resident on a device where every MB counts.
        asyncio.run(_until_signalled(settings))
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
    _add_flags(parser)
    return run(parser.parse_args(sys.argv[1:] if argv is None else list(argv)))
