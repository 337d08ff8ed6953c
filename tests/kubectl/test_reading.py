"""What `kubectl get`, `describe`, `explain` and `api-resources` print for our objects."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import pytest
import yaml

from tests.kubectl.conftest import Kubectl, apply_examples

BUSYBOX = "localhost/busybox:latest"
SERVICE_CIDR = ipaddress.ip_network("10.43.0.0/16")  # the server's default --service-cidr


def table(text: str) -> list[dict[str, str]]:
    """One table that `kubectl get` printed, as rows of {column: cell}.

    No cell in these tests holds a space, so whitespace splits the columns.
    """
    header, *rows = [line.split() for line in text.strip().splitlines()]
    return [dict(zip(header, row, strict=True)) for row in rows]


def tables(text: str) -> dict[str, list[dict[str, str]]]:
    """`kubectl get a,b,c` output (blank-line separated tables) as {kind: rows}."""
    found = [table(block) for block in text.strip().split("\n\n")]
    return {rows[0]["NAME"].split("/")[0]: rows for rows in found}


WIDE_COLUMNS = [
    pytest.param(
        "deployment.apps",
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"],
        {
            "NAME": "deployment.apps/web",
            "READY": "0/2",
            "CONTAINERS": "httpd",
            "IMAGES": BUSYBOX,
            "SELECTOR": "app=web",
        },
        id="deployments",
    ),
    pytest.param(
        "service",
        ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"],
        {
            "NAME": "service/web",
            "TYPE": "ClusterIP",
            "EXTERNAL-IP": "<none>",
            "PORT(S)": "80/TCP",
            "SELECTOR": "app=web",
        },
        id="services",
    ),
    pytest.param(
        "configmap",
        ["NAME", "DATA", "AGE"],
        {"NAME": "configmap/web-config", "DATA": "1"},
        id="configmaps",
    ),
]


@pytest.mark.parametrize(("kind", "columns", "cells"), WIDE_COLUMNS)
def test_get_wide_columns(
    kubectl: Kubectl,
    kind: str,
    columns: list[str],
    cells: dict[str, str],
) -> None:
    """`get deploy,rs,svc,cm -o wide` prints kubectl's usual columns and values for each kind."""
    apply_examples(kubectl)
    found = tables(kubectl.out("get", "deploy,rs,svc,cm", "-o", "wide"))
    rows = [row for row in found[kind] if row["NAME"] != "configmap/kube-root-ca.crt"]
    assert len(rows) == 1
    assert list(rows[0]) == columns
    assert {key: rows[0][key] for key in cells} == cells


def test_service_gets_a_cluster_ip(kubectl: Kubectl) -> None:
    """The Service is given a ClusterIP from the service CIDR when created, shown as CLUSTER-IP."""
    apply_examples(kubectl)
    [row] = table(kubectl.out("get", "svc", "web", "-o", "wide"))
    assert row["CLUSTER-IP"] != "<none>", "the Service was stored without spec.clusterIP"
    assert ipaddress.ip_address(row["CLUSTER-IP"]) in SERVICE_CIDR
    assert kubectl.out("get", "svc", "web", "-o", "jsonpath={.spec.clusterIPs[0]}") == row["CLUSTER-IP"]


# (label, pattern of the value); the counts beyond "desired" belong to the controllers.
DESCRIBE_LINES = [
    ("Name", "web"),
    ("Selector", "app=web"),
    ("Replicas", r"2 desired \| \d+ updated \| \d+ total \| \d+ available \| \d+ unavailable"),
    ("StrategyType", "RollingUpdate"),
    ("RollingUpdateStrategy", "25% max unavailable, 25% max surge"),
    ("Image", re.escape(BUSYBOX)),
]


def test_describe_deployment(kubectl: Kubectl) -> None:
    """`describe deployment web` shows the name, namespace, selector, replicas, strategy and image."""
    apply_examples(kubectl)
    text = kubectl.out("describe", "deployment", "web")
    expected = [*DESCRIBE_LINES, ("Namespace", str(kubectl.namespace))]
    for label, pattern in expected:
        assert re.search(rf"^\s*{label}:\s+{pattern}$", text, re.MULTILINE), (label, text)


def at(obj: Any, path: str) -> Any:
    """The value at a dotted path; a number in the path indexes a list."""
    for key in path.split("."):
        obj = obj[int(key)] if key.isdigit() else obj[key]
    return obj


DEFAULTS = [
    ("apiVersion", "apps/v1"),
    ("kind", "Deployment"),
    ("spec.strategy.type", "RollingUpdate"),
    ("spec.strategy.rollingUpdate.maxSurge", "25%"),
    ("spec.strategy.rollingUpdate.maxUnavailable", "25%"),
    ("spec.revisionHistoryLimit", 10),
    ("spec.progressDeadlineSeconds", 600),
    ("spec.template.spec.containers.0.imagePullPolicy", "Always"),
    ("spec.template.spec.containers.0.terminationMessagePath", "/dev/termination-log"),
    ("spec.template.spec.containers.0.ports.0.protocol", "TCP"),
    ("spec.template.spec.containers.0.readinessProbe.timeoutSeconds", 1),
    ("spec.template.spec.terminationGracePeriodSeconds", 30),
    ("spec.template.spec.restartPolicy", "Always"),
    ("spec.template.spec.dnsPolicy", "ClusterFirst"),
    ("spec.template.spec.schedulerName", "default-scheduler"),
]


def test_get_yaml_has_metadata_and_defaults(kubectl: Kubectl) -> None:
    """`get deploy web -o yaml` carries server metadata and the Deployment defaults."""
    apply_examples(kubectl)
    obj = yaml.safe_load(kubectl.out("get", "deploy", "web", "-o", "yaml"))
    meta = obj["metadata"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", meta["uid"])
    assert meta["resourceVersion"].isdigit()
    assert meta["generation"] == 1
    assert meta["namespace"] == kubectl.namespace
    assert "kubectl.kubernetes.io/last-applied-configuration" in meta["annotations"]
    assert {path: at(obj, path) for path, _ in DEFAULTS} == dict(DEFAULTS)


PULL_POLICIES = [
    ("localhost/busybox:latest", "Always"),
    ("localhost/busybox", "Always"),
    ("localhost/busybox:1.36", "IfNotPresent"),
    ("localhost/busybox@sha256:" + "ab" * 32, "IfNotPresent"),
]


@pytest.mark.parametrize(("image", "policy"), PULL_POLICIES)
def test_image_pull_policy_default(kubectl: Kubectl, image: str, policy: str) -> None:
    """imagePullPolicy defaults to Always for `:latest` or no tag, else IfNotPresent."""
    kubectl("run", "p", "--image", image, "--restart", "Never")
    assert kubectl.out("get", "pod", "p", "-o", "jsonpath={.spec.containers[0].imagePullPolicy}") == policy


def test_explain_strategy(kubectl: Kubectl) -> None:
    """`explain deployment.spec.strategy` prints the description and the fields from OpenAPI."""
    text = kubectl.out("explain", "deployment.spec.strategy")
    assert "KIND:       Deployment" in text and "VERSION:    v1" in text
    assert "FIELD: strategy <DeploymentStrategy>" in text
    assert "DeploymentStrategy describes how to replace existing pods with new ones." in text
    assert re.search(r"^  rollingUpdate\s+<RollingUpdateDeployment>$", text, re.MULTILINE), text
    assert re.search(r"^  type\s+<string>$", text, re.MULTILINE), text


API_RESOURCES = [
    # NAME, SHORTNAMES, APIVERSION, NAMESPACED, KIND as `kubectl api-resources` prints them
    ["configmaps", "cm", "v1", "true", "ConfigMap"],
    ["endpoints", "ep", "v1", "true", "Endpoints"],
    ["events", "ev", "v1", "true", "Event"],
    ["namespaces", "ns", "v1", "false", "Namespace"],
    ["nodes", "no", "v1", "false", "Node"],
    ["persistentvolumeclaims", "pvc", "v1", "true", "PersistentVolumeClaim"],
    ["persistentvolumes", "pv", "v1", "false", "PersistentVolume"],
    ["pods", "po", "v1", "true", "Pod"],
    ["secrets", "v1", "true", "Secret"],
    ["serviceaccounts", "sa", "v1", "true", "ServiceAccount"],
    ["services", "svc", "v1", "true", "Service"],
    ["daemonsets", "ds", "apps/v1", "true", "DaemonSet"],
    ["deployments", "deploy", "apps/v1", "true", "Deployment"],
    ["replicasets", "rs", "apps/v1", "true", "ReplicaSet"],
    ["leases", "coordination.k8s.io/v1", "true", "Lease"],
    ["storageclasses", "sc", "storage.k8s.io/v1", "false", "StorageClass"],
]


def test_api_resources(kubectl: Kubectl) -> None:
    """`api-resources` lists each kind with its short name, group version and scope."""
    rows = {line.split()[0]: line.split() for line in kubectl.out("api-resources").splitlines()[1:]}
    assert [rows.get(row[0]) for row in API_RESOURCES] == API_RESOURCES


def test_get_namespaces(kubectl: Kubectl) -> None:
    """`get ns` lists the system namespaces and the test's own, all Active."""
    rows = {row["NAME"]: row for row in table(kubectl.out("get", "ns"))}
    for name in ["default", "kube-system", "kube-public", "kube-node-lease", str(kubectl.namespace)]:
        assert rows[name]["STATUS"] == "Active", rows


def test_get_default_service_account(kubectl: Kubectl) -> None:
    """`get sa -n default` shows the `default` ServiceAccount."""
    rows = table(kubectl.out("get", "sa", "--namespace", "default"))
    assert [row["NAME"] for row in rows] == ["default"]


def test_get_pods_in_all_namespaces(kubectl: Kubectl) -> None:
    """`get pods -A` adds a NAMESPACE column and finds a pod in the test's namespace."""
    kubectl("run", "lonely", "--image", BUSYBOX, "--restart", "Never", "--", "sleep", "3600")
    text = kubectl.out("get", "pods", "-A")
    header, *rows = [line.split() for line in text.splitlines()]
    assert header == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert [str(kubectl.namespace), "lonely", "0/1", "Pending", "0"] in [row[:5] for row in rows]
