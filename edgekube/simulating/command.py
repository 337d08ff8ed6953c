"""`edgekube simulate`: run a fleet of simulated nodes against a server until stopped.

    edgekube simulate --nodes 200 --labels zone=lab --start-delay 2

`add_parser` adds the subcommand and its flags; `run(args)` turns them into `Settings`
and runs the fleet until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from edgekube.client import DEFAULT_KUBECONFIG, Config, ConfigError, ServerUnreachable
from edgekube.errors import ApiError
from edgekube.logging import configure
from edgekube.simulating.fleet import simulate
from edgekube.simulating.settings import HeartbeatSettings, LimitSettings, NodeSettings, PodSettings, Settings


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "simulate",
        help="run simulated nodes (for trying out a fleet, benchmarks and tests)",
        description="Register N simulated nodes that renew their Leases and run the pods bound to them "
        "through the kubelet's statuses, without containers. Their addresses are in documentation "
        "ranges and never receive traffic.",
    )
    n, h, p, lim = NodeSettings(), HeartbeatSettings(), PodSettings(), LimitSettings()
    add = parser.add_argument
    add("--kubeconfig", default=str(DEFAULT_KUBECONFIG), help="kubeconfig of the server (default %(default)s)")
    add("--nodes", type=int, default=n.count, help="number of nodes (default %(default)s)")
    add("--name-prefix", default=n.name_prefix, help="node names are PREFIX0000, PREFIX0001, ... (default %(default)s)")
    add("--first-index", type=int, default=n.first_index, help="index of the first node (default %(default)s)")
    add("--cpu", default=n.cpu, help="CPU per node (default %(default)s)")
    add("--memory", default=n.memory, help="memory per node (default %(default)s)")
    add("--pods", type=int, default=n.pods, help="pods per node (default %(default)s)")
    add("--ephemeral-storage", default=n.ephemeral_storage, help="disk per node (default %(default)s)")
    add("--arch", default=n.architecture, help="kubernetes.io/arch of the nodes (default %(default)s)")
    add("--labels", action="append", default=[], metavar="K=V", help="extra node label; repeat or comma-separate")
    add("--unready-nodes", type=int, default=n.unready, help="how many nodes report NotReady (default 0)")
    add("--lease-interval", type=float, default=h.lease_interval, help="seconds between Lease renewals (default 10)")
    add("--lease-duration", type=int, default=h.lease_duration_seconds, help="leaseDurationSeconds (default 40)")
    add(
        "--status-interval", type=float, default=h.status_report_interval, help="max seconds between node status writes"
    )
    add("--start-delay", type=float, default=p.start_delay, help="seconds from bound to Running (default 0.5)")
    add("--ready-delay", type=float, default=p.ready_delay, help="seconds from Running to Ready (default 0.5)")
    add("--terminate-delay", type=float, default=p.terminate_delay, help="seconds to stop a deleted pod (default 0.5)")
    add("--fail-rate", type=float, default=p.fail_rate, help="fraction of pods that crash (default 0)")
    add("--lease-writers", type=int, default=lim.lease_writers, help="concurrent Lease writes (default 16)")
    add("--status-writers", type=int, default=lim.status_writers, help="concurrent pod writes (default 32)")
    add("--request-timeout", type=float, default=lim.request_timeout, help="seconds per API call (default 30)")
    add("--report-interval", type=float, default=30.0, help="seconds between progress log lines (default 30)")
    add("--log-format", choices=("auto", "json", "console"), default="auto", help="log format (default auto)")
    add("--log-level", choices=("debug", "info", "warning", "error"), default="info", help="log level")
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from parsed flags; ValueError names the flag that is wrong."""
    labels: dict[str, str] = {}
    for item in ",".join(args.labels).split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--labels wants key=value, not {item!r}")
        labels[key.strip()] = value.strip()
    if args.nodes < 1:
        raise ValueError("--nodes must be at least 1")
    if not 0 <= args.fail_rate <= 1:
        raise ValueError("--fail-rate is a fraction between 0 and 1")
    if args.lease_interval <= 0:
        raise ValueError("--lease-interval must be positive")
    if not 0 <= args.unready_nodes <= args.nodes:
        raise ValueError("--unready-nodes must be between 0 and --nodes")
    return Settings(
        nodes=NodeSettings(
            count=args.nodes,
            name_prefix=args.name_prefix,
            first_index=args.first_index,
            cpu=args.cpu,
            memory=args.memory,
            pods=args.pods,
            ephemeral_storage=args.ephemeral_storage,
            architecture=args.arch,
            labels=labels,
            unready=args.unready_nodes,
        ),
        heartbeat=HeartbeatSettings(
            lease_interval=args.lease_interval,
            lease_duration_seconds=args.lease_duration,
            status_report_interval=args.status_interval,
        ),
        pods=PodSettings(
            start_delay=args.start_delay,
            ready_delay=args.ready_delay,
            terminate_delay=args.terminate_delay,
            fail_rate=args.fail_rate,
        ),
        limits=LimitSettings(
            lease_writers=max(1, args.lease_writers),
            status_writers=max(1, args.status_writers),
            request_timeout=args.request_timeout,
        ),
    )


async def _until_signalled(config: Config, settings: Settings, report_interval: float) -> None:
    main = asyncio.create_task(simulate(config, settings, report_interval=report_interval))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, main.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await main


def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from(args)
        config = Config.from_kubeconfig(args.kubeconfig)
    except (ValueError, ConfigError) as err:
        print(f"edgekube simulate: {err}", file=sys.stderr)
        return 2
    configure(args.log_format, args.log_level)
    try:
        try:
            import uvloop
        except ImportError:
            asyncio.run(_until_signalled(config, settings, args.report_interval))
        else:
            uvloop.run(_until_signalled(config, settings, args.report_interval))
    except ServerUnreachable as err:
        print(f"edgekube simulate: cannot reach the server: {err}", file=sys.stderr)
        return 1
    except ApiError as err:
        print(f"edgekube simulate: the server refused: {err.message}", file=sys.stderr)
        return 1
    return 0
