"""A strategic merge patch as `kubectl apply` computes it, on a whole Deployment."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from edgekube.resources.objects import Obj

Patcher = Callable[[Obj, Any], Obj]

LIVE: Obj = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "web",
        "namespace": "default",
        "labels": {"app": "web"},
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...old...}"},
        "finalizers": ["edgekube.io/protect"],
    },
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [
                    {
                        "name": "web",
                        "image": "nginx:1.25",
                        "env": [
                            {"name": "MODE", "value": "prod"},
                            {"name": "DEBUG", "value": "1"},
                            {"name": "REGION", "value": "eu"},
                        ],
                        "ports": [{"containerPort": 80, "protocol": "TCP"}],
                    },
                    {"name": "log", "image": "busybox"},
                ],
            },
        },
    },
    "status": {"replicas": 2},
}

# What kubectl apply sends after the manifest changed the web image, added a `tier`
# label and dropped the DEBUG env var; the ordering directives list every element.
PATCH: Obj = {
    "metadata": {
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...new...}"},
        "labels": {"tier": "front"},
    },
    "spec": {
        "template": {
            "spec": {
                "$setElementOrder/containers": [{"name": "web"}, {"name": "log"}],
                "containers": [
                    {
                        "$setElementOrder/env": [{"name": "MODE"}, {"name": "REGION"}],
                        "name": "web",
                        "image": "nginx:1.27",
                        "env": [{"$patch": "delete", "name": "DEBUG"}],
                    },
                ],
            },
        },
    },
}


def test_kubectl_apply_patch(strategic: Patcher) -> None:
    """Image, label and env changes land; everything else, status included, is kept."""
    expected = copy.deepcopy(LIVE)
    expected["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = (
        "{...new...}"
    )
    expected["metadata"]["labels"]["tier"] = "front"
    web = expected["spec"]["template"]["spec"]["containers"][0]
    web["image"] = "nginx:1.27"
    web["env"] = [{"name": "MODE", "value": "prod"}, {"name": "REGION", "value": "eu"}]
    live = copy.deepcopy(LIVE)
    assert strategic(live, PATCH) == expected
    assert live == LIVE


def test_kubectl_apply_strategy_switch(strategic: Patcher) -> None:
    """Switching to Recreate with `$retainKeys` drops rollingUpdate and keeps the rest."""
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    result = strategic(LIVE, patch)
    assert result["spec"]["strategy"] == {"type": "Recreate"}
    assert result["spec"]["replicas"] == 2
