"""Realistic objects, in the JSON shape a Go client sends (no zero non-pointer fields)."""

from __future__ import annotations

from typing import Any

CONFIGMAP: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {
        "name": "settings",
        "namespace": "default",
        "labels": {"app": "web", "tier": "front"},
        "annotations": {"note": "multi\nline", "empty": ""},
    },
    "data": {"a": "b", "config.yaml": "key: value\nlist: [1, 2]\n", "blank": ""},
    "binaryData": {"logo.png": "iVBORw0KGgo="},
    "immutable": False,
}

SECRET: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "creds", "namespace": "default"},
    "type": "Opaque",
    # arbitrary bytes, including ones that are not UTF-8
    "data": {"password": "cDRzc3cwcmQ=", "binary": "AP/+gA==", "empty": ""},
    "stringData": {"user": "admin"},
    "immutable": True,
}

NAMESPACE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Namespace",
    "metadata": {"name": "team-a", "labels": {"kubernetes.io/metadata.name": "team-a"}},
    "spec": {"finalizers": ["kubernetes"]},
}

SERVICE_ACCOUNT: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "ServiceAccount",
    "metadata": {"name": "builder", "namespace": "ci"},
    "automountServiceAccountToken": False,
    "imagePullSecrets": [{"name": "registry"}],
    "secrets": [{"name": "builder-token", "namespace": "ci"}],
}

SERVICE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
    "spec": {
        "type": "NodePort",
        "selector": {"app": "web"},
        "ports": [
            {"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080, "nodePort": 30080},
            {"name": "metrics", "protocol": "TCP", "port": 9090, "targetPort": "metrics", "appProtocol": "http"},
        ],
        "sessionAffinity": "ClientIP",
        "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 600}},
        "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
        "externalTrafficPolicy": "Local",
        "allocateLoadBalancerNodePorts": False,
        "publishNotReadyAddresses": True,
    },
}

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "d", "namespace": "default", "labels": {"app": "d"}},
    "spec": {
        "replicas": 0,
        "selector": {"matchLabels": {"app": "d"}},
        "template": {
            "metadata": {"labels": {"app": "d"}},
            "spec": {"containers": [{"name": "busybox", "image": "busybox"}]},
        },
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
        "revisionHistoryLimit": 0,
        "progressDeadlineSeconds": 600,
        "minReadySeconds": 5,
    },
}

POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "web-7d4b9c6f5-x2x9q",
        "generateName": "web-7d4b9c6f5-",
        "namespace": "default",
        "uid": "3f1c1c52-8a40-4c7e-9a53-1f1f1b1d2c3e",
        "resourceVersion": "12345",
        "creationTimestamp": "2024-01-02T03:04:05Z",
        "labels": {"app": "web", "pod-template-hash": "7d4b9c6f5"},
        "annotations": {"kubectl.kubernetes.io/restartedAt": "2024-01-02T03:00:00Z"},
        "ownerReferences": [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "web-7d4b9c6f5",
                "uid": "0b8f8a0e-6b3c-4b9e-8f55-3d9f0c0e1a2b",
                "controller": True,
                "blockOwnerDeletion": False,
            }
        ],
        "finalizers": ["example.com/cleanup"],
        "managedFields": [
            {
                "manager": "kube-controller-manager",
                "operation": "Update",
                "apiVersion": "v1",
                "time": "2024-01-02T03:04:05Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}},
            }
        ],
    },
    "spec": {
        "volumes": [
            {"name": "scratch", "emptyDir": {}},
            {"name": "cache", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
            {
                "name": "config",
                "configMap": {
                    "name": "settings",
                    "items": [{"key": "a", "path": "a.txt", "mode": 420}],
                    "defaultMode": 0,
                },
            },
            {"name": "creds", "secret": {"secretName": "creds", "optional": False}},
            {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
            {"name": "host", "hostPath": {"path": "/var/log", "type": "Directory"}},
            {
                "name": "token",
                "projected": {
                    "sources": [
                        {"serviceAccountToken": {"audience": "api", "expirationSeconds": 3600, "path": "token"}},
                        {"downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
                    ],
                    "defaultMode": 292,
                },
            },
        ],
        "initContainers": [
            {
                "name": "init",
                "image": "busybox:1.36",
                "command": ["sh", "-c"],
                "args": ["echo ready"],
                "restartPolicy": "Always",
            }
        ],
        "containers": [
            {
                "name": "web",
                "image": "nginx:1.25",
                "imagePullPolicy": "IfNotPresent",
                "workingDir": "/srv",
                "ports": [
                    {"name": "http", "containerPort": 8080, "protocol": "TCP"},
                    {"name": "metrics", "containerPort": 9090, "hostPort": 19090, "protocol": "TCP"},
                ],
                "env": [
                    {"name": "MODE", "value": "production"},
                    {"name": "EMPTY"},
                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
                    {
                        "name": "CPU",
                        "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1m"}},
                    },
                    {
                        "name": "PASSWORD",
                        "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password", "optional": False}},
                    },
                    {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "level"}}},
                ],
                "envFrom": [{"prefix": "CFG_", "configMapRef": {"name": "settings"}}],
                "resources": {
                    "limits": {"cpu": "500m", "memory": "256Mi", "ephemeral-storage": "1Gi"},
                    "requests": {"cpu": "100m", "memory": "128Mi"},
                },
                "volumeMounts": [
                    {"name": "config", "mountPath": "/etc/web", "readOnly": True},
                    {"name": "scratch", "mountPath": "/tmp", "subPath": "tmp"},
                ],
                "livenessProbe": {
                    "httpGet": {
                        "path": "/healthz",
                        "port": "http",
                        "scheme": "HTTP",
                        "httpHeaders": [{"name": "X-Probe", "value": "1"}],
                    },
                    "initialDelaySeconds": 10,
                    "periodSeconds": 5,
                    "failureThreshold": 3,
                    "terminationGracePeriodSeconds": 0,
                },
                "readinessProbe": {"tcpSocket": {"port": 8080}, "timeoutSeconds": 2},
                "startupProbe": {"exec": {"command": ["cat", "/tmp/ready"]}, "successThreshold": 1},
                "lifecycle": {
                    "preStop": {"sleep": {"seconds": 5}},
                    "postStart": {"httpGet": {"path": "/started", "port": 8080}},
                },
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 0,
                    "privileged": False,
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "stdin": True,
                "tty": True,
            },
            {"name": "sidecar", "image": "busybox", "livenessProbe": {"grpc": {"port": 9000, "service": "health"}}},
        ],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 0,
        "activeDeadlineSeconds": 3600,
        "dnsPolicy": "ClusterFirst",
        "nodeSelector": {"kubernetes.io/arch": "arm64"},
        "serviceAccountName": "default",
        "automountServiceAccountToken": False,
        "nodeName": "pi-1",
        "hostNetwork": True,
        "securityContext": {"fsGroup": 2000, "runAsGroup": 0, "supplementalGroups": [1000, 2000]},
        "imagePullSecrets": [{"name": "registry"}],
        "hostname": "web",
        "subdomain": "web-headless",
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]},
                    ]
                },
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 10, "preference": {"matchExpressions": [{"key": "ssd", "operator": "Exists"}]}}
                ],
            },
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}
                ]
            },
        },
        "schedulerName": "default-scheduler",
        "tolerations": [
            {
                "key": "node.kubernetes.io/not-ready",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 0,
            },
            {"operator": "Exists"},
        ],
        "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["db.local"]}],
        "priority": -10,
        "dnsConfig": {"nameservers": ["1.1.1.1"], "options": [{"name": "ndots", "value": "2"}]},
        "enableServiceLinks": False,
        "preemptionPolicy": "Never",
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "zone",
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]},
            }
        ],
        "os": {"name": "linux"},
        "schedulingGates": [{"name": "example.com/gate"}],
        "hostnameOverride": "",
    },
    "status": {
        "phase": "Running",
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "lastTransitionTime": "2024-01-02T03:04:06Z",
                "observedGeneration": 3,
            }
        ],
        "hostIP": "192.168.1.10",
        "podIP": "10.42.0.7",
        "podIPs": [{"ip": "10.42.0.7"}],
        "startTime": "2024-01-02T03:04:05Z",
        "qosClass": "Burstable",
        "containerStatuses": [
            {
                "name": "web",
                "ready": True,
                "restartCount": 2,
                "image": "nginx:1.25",
                "imageID": "docker.io/library/nginx@sha256:abc",
                "containerID": "containerd://abc",
                "started": False,
                "state": {"running": {"startedAt": "2024-01-02T03:04:07Z"}},
                "lastState": {
                    "terminated": {
                        "exitCode": -1,
                        "reason": "Error",
                        "startedAt": "1999-12-31T23:59:59Z",
                        "finishedAt": "2024-01-02T03:04:06Z",
                    }
                },
            }
        ],
    },
}

EVENT: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Event",
    "metadata": {"name": "web.17a", "namespace": "default"},
    "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web", "apiVersion": "v1"},
    "reason": "Scheduled",
    "message": "Successfully assigned default/web to pi-1",
    "source": {"component": "default-scheduler"},
    "firstTimestamp": "2024-01-02T03:04:05Z",
    "lastTimestamp": "2024-01-02T03:04:05Z",
    "count": 1,
    "type": "Normal",
    "eventTime": "2024-01-02T03:04:05.123456Z",
    "series": {"count": 2, "lastObservedTime": "2024-01-02T03:05:00.000001Z"},
    "reportingComponent": "default-scheduler",
    "reportingInstance": "default-scheduler-pi-1",
}

LEASE: dict[str, Any] = {
    "apiVersion": "coordination.k8s.io/v1",
    "kind": "Lease",
    "metadata": {"name": "pi-1", "namespace": "kube-node-lease"},
    "spec": {
        "holderIdentity": "pi-1",
        "leaseDurationSeconds": 40,
        "renewTime": "2024-01-02T03:04:05.500000Z",
        "leaseTransitions": 0,
    },
}

PVC: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "PersistentVolumeClaim",
    "metadata": {"name": "data", "namespace": "default"},
    "spec": {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "1Gi"}},
        "storageClassName": "",
        "volumeMode": "Filesystem",
    },
}

PV: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "PersistentVolume",
    "metadata": {"name": "pv-1"},
    "spec": {
        "capacity": {"storage": "10Gi"},
        "csi": {"driver": "local.csi", "volumeHandle": "v1", "volumeAttributes": {"k": "v"}},
        "accessModes": ["ReadWriteOnce"],
        "persistentVolumeReclaimPolicy": "Retain",
        "claimRef": {"namespace": "default", "name": "data"},
        "nodeAffinity": {
            "required": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["pi-1"]}]}
                ]
            }
        },
    },
}

STORAGE_CLASS: dict[str, Any] = {
    "apiVersion": "storage.k8s.io/v1",
    "kind": "StorageClass",
    "metadata": {"name": "local", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
    "provisioner": "rancher.io/local-path",
    "parameters": {"nodePath": "/data"},
    "reclaimPolicy": "Delete",
    "volumeBindingMode": "WaitForFirstConsumer",
    "allowVolumeExpansion": False,
}

NODE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {"name": "pi-1", "labels": {"kubernetes.io/hostname": "pi-1"}},
    "spec": {
        "podCIDR": "10.42.0.0/24",
        "podCIDRs": ["10.42.0.0/24"],
        "taints": [{"key": "dedicated", "value": "edge", "effect": "NoSchedule", "timeAdded": "2024-01-02T03:04:05Z"}],
        "unschedulable": True,
    },
    "status": {
        "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
        "allocatable": {"cpu": "3800m", "memory": "7Gi", "pods": "110"},
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "lastHeartbeatTime": "2024-01-02T03:04:05Z",
                "lastTransitionTime": "2024-01-02T03:00:00Z",
                "reason": "KubeletReady",
                "message": "kubelet is posting ready status",
            }
        ],
        "addresses": [{"type": "InternalIP", "address": "192.168.1.10"}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {
            "machineID": "m",
            "systemUUID": "s",
            "bootID": "b",
            "kernelVersion": "6.1.0",
            "osImage": "Debian",
            "containerRuntimeVersion": "podman://4.9",
            "kubeletVersion": "v1.32.0",
            "operatingSystem": "linux",
            "architecture": "arm64",
            "swap": {"capacity": 0},
        },
        "images": [{"names": ["nginx:1.25"], "sizeBytes": 70000000}],
    },
}

ENDPOINTS: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Endpoints",
    "metadata": {"name": "web", "namespace": "default"},
    "subsets": [
        {
            "addresses": [{"ip": "10.42.0.7", "nodeName": "pi-1", "targetRef": {"kind": "Pod", "name": "web"}}],
            "notReadyAddresses": [{"ip": "10.42.0.8"}],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        }
    ],
}

ENDPOINT_SLICE: dict[str, Any] = {
    "apiVersion": "discovery.k8s.io/v1",
    "kind": "EndpointSlice",
    "metadata": {"name": "web-abc", "namespace": "default", "labels": {"kubernetes.io/service-name": "web"}},
    "addressType": "IPv4",
    "endpoints": [
        {
            "addresses": ["10.42.0.7"],
            "conditions": {"ready": False, "serving": True, "terminating": True},
            "nodeName": "pi-1",
            "targetRef": {"kind": "Pod", "namespace": "default", "name": "web"},
            "hints": {"forZones": [{"name": "a"}], "forNodes": [{"name": "pi-1"}]},
        }
    ],
    "ports": [{"name": "", "protocol": "TCP", "port": 8080}, {"name": "all"}],
}

DAEMONSET: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "agent", "namespace": "kube-system"},
    "spec": {
        "selector": {"matchLabels": {"app": "agent"}},
        "template": {
            "metadata": {"labels": {"app": "agent"}},
            "spec": {"containers": [{"name": "agent", "image": "agent:1"}], "hostPID": True},
        },
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
    },
}

REPLICASET: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "ReplicaSet",
    "metadata": {"name": "web-1", "namespace": "default", "generation": 2},
    "spec": {
        "replicas": 2,
        "selector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "w", "image": "w"}]}},
    },
    "status": {"replicas": 2, "readyReplicas": 1, "observedGeneration": 2, "terminatingReplicas": 0},
}

SCALE: dict[str, Any] = {
    "apiVersion": "autoscaling/v1",
    "kind": "Scale",
    "metadata": {"name": "web", "namespace": "default", "resourceVersion": "7"},
    "spec": {"replicas": 5},
}

BINDING: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Binding",
    "metadata": {"name": "web", "namespace": "default"},
    "target": {"kind": "Node", "name": "pi-1", "apiVersion": "v1"},
}

EVICTION: dict[str, Any] = {
    "apiVersion": "policy/v1",
    "kind": "Eviction",
    "metadata": {"name": "web", "namespace": "default"},
    "deleteOptions": {"gracePeriodSeconds": 0, "preconditions": {"uid": "abc"}, "dryRun": ["All"]},
}

DELETE_OPTIONS: dict[str, Any] = {
    "apiVersion": "meta.k8s.io/v1",
    "kind": "DeleteOptions",
    "propagationPolicy": "Foreground",
    "orphanDependents": False,
}

ALL: dict[str, dict[str, Any]] = {
    "configmap": CONFIGMAP,
    "secret": SECRET,
    "namespace": NAMESPACE,
    "serviceaccount": SERVICE_ACCOUNT,
    "service": SERVICE,
    "deployment": DEPLOYMENT,
    "pod": POD,
    "event": EVENT,
    "lease": LEASE,
    "pvc": PVC,
    "pv": PV,
    "storageclass": STORAGE_CLASS,
    "node": NODE,
    "endpoints": ENDPOINTS,
    "endpointslice": ENDPOINT_SLICE,
    "daemonset": DAEMONSET,
    "replicaset": REPLICASET,
    "scale": SCALE,
    "binding": BINDING,
    "eviction": EVICTION,
    "deleteoptions": DELETE_OPTIONS,
}
