"""`kubectl get -w` streams the changes other commands make while it runs.

Each step waits for the line that shows its own change and skips any other line, so
status updates by controllers (once there are some) do not break the tests.
"""

from __future__ import annotations

from tests.kubectl.conftest import EXAMPLES, Kubectl

BUSYBOX = "localhost/busybox:latest"


def test_get_pods_watch(kubectl: Kubectl) -> None:
    """`get pods -w` prints a row for the pod's creation, its relabelling and its deletion."""
    with kubectl.stream("get", "pods", "-w", "--show-labels") as watch:
        kubectl("run", "p1", "--image", BUSYBOX, "--restart", "Never", "--", "sleep", "3600")
        watch.wait_for("p1", "Pending", "run=p1")
        kubectl("label", "pod", "p1", "colour=blue")
        watch.wait_for("p1", "colour=blue,run=p1")
        seen = len(watch.lines)
        kubectl("delete", "pod", "p1", "--wait=false")
        # Plain -w has no event column: a deletion is one more row for the pod.
        watch.wait_for("p1", "colour=blue,run=p1")
    assert watch.lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "LABELS"]
    assert len(watch.lines) > seen
    assert kubectl("get", "pod", "p1", expect_fail=True).stderr.strip().endswith('pods "p1" not found')


def test_get_deployments_watch_events(kubectl: Kubectl) -> None:
    """`get deploy -w --output-watch-events` labels each row ADDED, MODIFIED or DELETED."""
    with kubectl.stream("get", "deploy", "-w", "--output-watch-events", "--show-labels") as watch:
        kubectl("apply", "-f", str(EXAMPLES / "web-deployment.yaml"))
        watch.wait_for("ADDED", "web", "0/2", "app=web")
        kubectl("scale", "deployment", "web", "--replicas", "3")
        watch.wait_for("MODIFIED", "web", "0/3", "app=web")
        kubectl("label", "deployment", "web", "tier=front")
        watch.wait_for("MODIFIED", "web", "0/3", "app=web,tier=front")
        kubectl("delete", "deployment", "web")
        watch.wait_for("DELETED", "web", "0/3", "app=web,tier=front")
    assert watch.lines[0].split() == ["EVENT", "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "LABELS"]


def test_watch_starts_with_existing_objects(kubectl: Kubectl) -> None:
    """An object that exists before `get -w` starts comes first as ADDED, then its changes follow."""
    kubectl("apply", "-f", str(EXAMPLES / "web-config.yaml"))
    with kubectl.stream("get", "cm", "web-config", "-w", "--output-watch-events") as watch:
        first = watch.next_line()
        assert first.split() == ["EVENT", "NAME", "DATA", "AGE"]
        assert watch.next_line().split()[:3] == ["ADDED", "web-config", "1"]
        kubectl("patch", "cm", "web-config", "--type", "merge", "-p", '{"data":{"extra":"x"}}')
        watch.wait_for("MODIFIED", "web-config", "2")
