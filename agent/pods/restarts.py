"""Restart rules: whether an ended container runs again, and the kubelet's wording of a back-off. Pure."""

from __future__ import annotations


def should_restart(restart_policy: str, *, init: bool, exit_code: int) -> bool:
    """Always restarts app containers whatever their exit; OnFailure after a non-zero exit; Never never.

    Init containers run to success: they are retried after a failure unless the policy is Never.
    """
    if init:
        return exit_code != 0 and restart_policy != "Never"
    if restart_policy == "Never":
        return False
    return restart_policy != "OnFailure" or exit_code != 0


def go_duration(seconds: float) -> str:
    """Seconds as Go prints a duration: 10s, 1m20s, 5m0s, 1.5s."""
    if seconds < 60:
        return f"{seconds:g}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest}s"


def crash_message(delay: float, container: str, pod: str, namespace: str, uid: str) -> str:
    return f"back-off {go_duration(delay)} restarting failed container={container} pod={pod}_{namespace}({uid})"
