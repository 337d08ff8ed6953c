"""The `edgekube` command: one entry point, a subcommand per role."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from edgekube import __version__
from edgekube.config import add_server_flags, load_server_settings
from edgekube.logging import configure
from edgekube.settings_sources import SettingsError
from edgekube.simulating import command as simulate_command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgekube", description="A Kubernetes-compatible orchestrator for edge fleets"
    )
    parser.add_argument("--version", action="version", version=f"edgekube {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    server = sub.add_parser(
        "server",
        help="run the control plane (API, store, controllers)",
        description="Run the control plane. Every flag can also be set in the config file "
        "(key = flag name) or as EDGEKUBE_<FLAG_NAME> in the environment.",
    )
    add_server_flags(server)
    simulate_command.add_parser(sub)
    from agent import command as agent_command  # the top layer may start the agent

    agent_command.add_parser(sub)
    sub.add_parser("version", help="print the version")
    return parser


def _run_loop(coro: object) -> None:
    try:
        import uvloop

        uvloop.run(coro)  # type: ignore[arg-type]
    except ImportError:
        asyncio.run(coro)  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    if args.command == "version":
        print(f"edgekube {__version__}")
        return 0
    if args.command == "simulate":
        return simulate_command.run(args)
    if args.command == "agent":
        from agent import command as agent_command

        return agent_command.run(args)
    if args.command == "server":
        from edgekube.server import StartupError, serve

        try:
            settings = load_server_settings(args)
        except SettingsError as err:
            print(f"edgekube server: {err}", file=sys.stderr)
            return 2
        configure(settings.logging.log_format, settings.logging.log_level)
        try:
            embedded = None
            if not settings.agent.disable_agent:
                from agent.embedding import run_embedded

                embedded = run_embedded
            _run_loop(serve(settings, embedded_agent=embedded))
        except StartupError as err:
            print(f"edgekube server: {err}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 0
        return 0
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
