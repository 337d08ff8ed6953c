"""Discovery: what kubectl and client libraries read before anything else.

`routes(registry)` serves `/version`, `/api`, `/apis`, `/apis/{group}`, `/api/{version}` and
`/apis/{group}/{version}`. Every document is built once, when the routes are made, from the
registry's kinds (read-only after start), and answered from memory with an ETag.

`/api` and `/apis` come in two forms, chosen by the Accept header:

- aggregated (`application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`, or
  `v=v2beta1`): every group, version and resource in one response, which kubectl 1.32
  asks for first; the response's Content-Type repeats the chosen media type exactly,
  because clients decide how to decode by comparing it;
- legacy (`application/json`): `APIVersions` / `APIGroupList`, after which a client
  fetches each group-version's `APIResourceList`.

Unknown groups or versions raise `NotFound`; the app's error middleware renders the Status.
"""

from __future__ import annotations

import base64
import hashlib
import platform
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from aiohttp import hdrs, web

import edgekube
from edgekube.api.media import MediaRange, parse_accept
from edgekube.errors import NotAcceptable, NotFound
from edgekube.nodeinfo.architectures import kubernetes_arch
from edgekube.resources.registry import GroupVersion, Registry
from edgekube.resources.strategy import Kind

KUBERNETES_MAJOR, KUBERNETES_MINOR = "1", "32"
JSON = "application/json"
DISCOVERY_GROUP = "apidiscovery.k8s.io"
AGGREGATED_VERSIONS = ("v2", "v2beta1")


def aggregated_media_type(version: str) -> str:
    """The exact media type of an aggregated discovery response of `version` (v2, v2beta1)."""
    return f"{JSON};g={DISCOVERY_GROUP};v={version};as=APIGroupDiscoveryList"


# -- subresources ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Subresource:
    """A subresource as discovery shows it. An empty kind, or a None group, means the parent's."""

    name: str
    verbs: tuple[str, ...]
    kind: str = ""
    group: str | None = None
    version: str | None = None


STATUS = Subresource("status", ("get", "patch", "update"))
SCALE = Subresource("scale", ("get", "patch", "update"), "Scale", "autoscaling", "v1")
# Pod subresources served by the API layer and the agent, beyond status.
POD_EXTRAS = (
    Subresource("binding", ("create",), "Binding"),
    Subresource("eviction", ("create",), "Eviction", "policy", "v1"),
    Subresource("exec", ("create", "get"), "PodExecOptions"),
    Subresource("log", ("get",), "Pod"),
)
EXTRA_SUBRESOURCES: dict[tuple[str, str], tuple[Subresource, ...]] = {("", "pods"): POD_EXTRAS}


def subresources(kind: Kind) -> list[Subresource]:
    """A kind's subresources, sorted by name as Kubernetes lists them."""
    found = list(EXTRA_SUBRESOURCES.get((kind.group, kind.plural), ()))
    if kind.has_status:
        found.append(STATUS)
    if kind.has_scale:
        found.append(SCALE)
    return sorted(found, key=lambda s: s.name)


def _response_kind(kind: Kind, sub: Subresource | None = None) -> dict[str, str]:
    if sub is None:
        return {"group": kind.group, "version": kind.version, "kind": kind.kind}
    if sub.group is None:
        return {"group": kind.group, "version": kind.version, "kind": sub.kind or kind.kind}
    return {"group": sub.group, "version": sub.version or "", "kind": sub.kind or kind.kind}


def _storage_version_hash(kind: Kind) -> str:
    """As Kubernetes computes it: the first 8 bytes of sha256("group/version/Kind"), base64."""
    digest = hashlib.sha256(f"{kind.group}/{kind.version}/{kind.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode("ascii")


# -- version order ---------------------------------------------------------------------------

_KUBE_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")
_STAGE_RANK = {None: 2, "beta": 1, "alpha": 0}


def _version_priority(version: str) -> tuple[int, int, int, int, str]:
    """A sort key putting preferred versions first: v2, v1, v1beta2, v1beta1, v1alpha1, other."""
    match = _KUBE_VERSION.match(version)
    if match is None:
        return (1, 0, 0, 0, version)
    major, stage, minor = match.groups()
    return (0, -_STAGE_RANK[stage], -int(major), -int(minor or 0), "")


def _kinds(registry: Registry, group: str, version: str) -> list[Kind]:
    """The kinds of one group-version, sorted by plural as Kubernetes lists them."""
    return sorted((s.kind for s in registry.in_group_version(group, version)), key=lambda k: k.plural)


def _groups(registry: Registry) -> dict[str, list[str]]:
    """Group name -> served versions, most preferred first; the core group ("") first."""
    out: dict[str, list[str]] = {}
    for gv in registry.group_versions():
        out.setdefault(gv.group, []).append(gv.version)
    return {g: sorted(vs, key=_version_priority) for g, vs in out.items()}


# -- legacy documents ------------------------------------------------------------------------


def api_resource_list(registry: Registry, gv: GroupVersion) -> dict[str, Any]:
    """The `APIResourceList` of one group-version: each kind, then its subresources."""
    resources: list[dict[str, Any]] = []
    for kind in _kinds(registry, gv.group, gv.version):
        entry: dict[str, Any] = {
            "name": kind.plural,
            "singularName": kind.singular,
            "namespaced": kind.namespaced,
            "kind": kind.kind,
            "verbs": list(kind.verbs),
        }
        if kind.short_names:
            entry["shortNames"] = list(kind.short_names)
        if kind.categories:
            entry["categories"] = list(kind.categories)
        entry["storageVersionHash"] = _storage_version_hash(kind)
        resources.append(entry)
        for sub in subresources(kind):
            sub_entry: dict[str, Any] = {
                "name": f"{kind.plural}/{sub.name}",
                "singularName": "",
                "namespaced": kind.namespaced,
                "kind": sub.kind or kind.kind,
                "verbs": list(sub.verbs),
            }
            if sub.group is not None:
                sub_entry["group"] = sub.group
                sub_entry["version"] = sub.version
            resources.append(sub_entry)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv.api_version,
        "resources": resources,
    }


def _group_entry(name: str, versions: list[str]) -> dict[str, Any]:
    listed = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": listed, "preferredVersion": listed[0]}


def api_group_list(registry: Registry) -> dict[str, Any]:
    """`/apis`: every named group (the core group lives at `/api`)."""
    groups = [_group_entry(g, vs) for g, vs in _groups(registry).items() if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_versions(registry: Registry, server_address: str) -> dict[str, Any]:
    """`/api`: the core group's versions."""
    cidrs = [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}] if server_address else []
    return {
        "kind": "APIVersions",
        "versions": _groups(registry).get("", []),
        "serverAddressByClientCIDRs": cidrs,
    }


# -- aggregated documents --------------------------------------------------------------------


def _resource_discovery(kind: Kind) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": kind.plural,
        "responseKind": _response_kind(kind),
        "scope": "Namespaced" if kind.namespaced else "Cluster",
        "singularResource": kind.singular,
        "verbs": list(kind.verbs),
    }
    if kind.short_names:
        entry["shortNames"] = list(kind.short_names)
    if kind.categories:
        entry["categories"] = list(kind.categories)
    subs = [
        {"subresource": s.name, "responseKind": _response_kind(kind, s), "verbs": list(s.verbs)}
        for s in subresources(kind)
    ]
    if subs:
        entry["subresources"] = subs
    return entry


def group_discovery_list(registry: Registry, *, core: bool, version: str) -> dict[str, Any]:
    """The aggregated document of `/api` (core=True) or `/apis` (core=False)."""
    items = [
        {
            "metadata": {"name": group},
            "versions": [
                {
                    "version": v,
                    "resources": [_resource_discovery(k) for k in _kinds(registry, group, v)],
                    "freshness": "Current",
                }
                for v in versions
            ],
        }
        for group, versions in _groups(registry).items()
        if (group == "") == core
    ]
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": f"{DISCOVERY_GROUP}/{version}",
        "metadata": {},
        "items": items,
    }


# -- /version --------------------------------------------------------------------------------


def version_info() -> dict[str, str]:
    """`/version`: the Kubernetes version served, with EdgeKube's own version as build metadata."""
    machine = platform.machine().lower()
    # No build step stamps a date; the installed package's mtime is the closest honest value.
    built = datetime.fromtimestamp(Path(edgekube.__file__).stat().st_mtime, UTC)
    return {
        "major": KUBERNETES_MAJOR,
        "minor": KUBERNETES_MINOR,
        "gitVersion": f"v{KUBERNETES_MAJOR}.{KUBERNETES_MINOR}.0+edgekube-{edgekube.__version__}",
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": built.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "goVersion": f"python{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}",
        "compiler": sys.implementation.name,
        "platform": f"{sys.platform}/{kubernetes_arch(machine)}",
    }


# -- content negotiation ---------------------------------------------------------------------


def _offer(media: MediaRange) -> str | None:
    """What this server would answer for one media range: a content type, or None."""
    if media.params.get("as") == "APIGroupDiscoveryList":
        fits = media.type == JSON and media.params.get("g") == DISCOVERY_GROUP
        version = media.params.get("v", "")
        return aggregated_media_type(version) if fits and version in AGGREGATED_VERSIONS else None
    if "as" in media.params:  # another conversion (Table, PartialObjectMetadata...): not here
        return None
    return JSON if media.type in (JSON, "application/*", "*/*") else None


def negotiate(accept: str | None) -> str:
    """The content type to answer a discovery request with; `NotAcceptable` when none fits."""
    if not accept or not accept.strip():
        return JSON
    best: tuple[float, str] | None = None
    for media in parse_accept(accept):
        offer = _offer(media)
        # Strictly greater: among equal q values the earliest range wins, as the client listed.
        if offer and media.q > 0 and (best is None or media.q > best[0]):
            best = (media.q, offer)
    if best is None:
        served = ", ".join([JSON, *(aggregated_media_type(v) for v in AGGREGATED_VERSIONS)])
        raise NotAcceptable(f"only the following media types are accepted: {served}")
    return best[1]


# -- serving ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    """A pre-serialised JSON body and its ETag."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, doc: Any) -> Document:
        body = orjson.dumps(doc)
        return cls(body, f'"{hashlib.sha256(body).hexdigest()[:32]}"')

    def respond(self, request: web.Request, content_type: str) -> web.Response:
        # Vary: one URL has two bodies, and kubectl keeps an HTTP cache on disk.
        headers = {hdrs.CONTENT_TYPE: content_type, hdrs.VARY: "Accept", hdrs.ETAG: self.etag}
        if self.etag in request.headers.get(hdrs.IF_NONE_MATCH, ""):
            return web.Response(status=304, headers=headers)
        return web.Response(body=self.body, headers=headers)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _negotiated(legacy: Document, aggregated: dict[str, Document]) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        content_type = negotiate(request.headers.get(hdrs.ACCEPT))
        return (aggregated.get(content_type) or legacy).respond(request, content_type)

    return handle


def _fixed(doc: Document) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        return doc.respond(request, JSON)

    return handle


def _by_path(docs: dict[str, Document], what: str) -> Handler:
    """Look the document up by the joined URL parameters (`v1`, `apps`, `apps/v1`)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        key = "/".join(request.match_info.values())
        doc = docs.get(key)
        if doc is None:
            raise NotFound(f'the server could not find the requested resource ({what} "{key}" is not served)')
        return doc.respond(request, JSON)

    return handle


def _aggregated(registry: Registry, *, core: bool) -> dict[str, Document]:
    return {
        aggregated_media_type(v): Document.of(group_discovery_list(registry, core=core, version=v))
        for v in AGGREGATED_VERSIONS
    }


def routes(registry: Registry, *, server_address: str = "") -> list[web.RouteDef]:
    """The discovery routes. `server_address` (host:port), when given, is listed at `/api`."""
    versions = Document.of(api_versions(registry, server_address))
    group_list = Document.of(api_group_list(registry))
    named_groups = {
        g: Document.of({"kind": "APIGroup", "apiVersion": "v1", **_group_entry(g, vs)})
        for g, vs in _groups(registry).items()
        if g
    }
    # Keys as the URL parameters joined: "v1" for /api/v1, "apps/v1" for /apis/apps/v1.
    resource_lists = {gv.api_version: Document.of(api_resource_list(registry, gv)) for gv in registry.group_versions()}
    core_lists = {k: d for k, d in resource_lists.items() if "/" not in k}
    group_lists = {k: d for k, d in resource_lists.items() if "/" in k}
    return [
        web.get("/version", _fixed(Document.of(version_info()))),
        web.get("/api", _negotiated(versions, _aggregated(registry, core=True))),
        web.get("/apis", _negotiated(group_list, _aggregated(registry, core=False))),
        web.get("/api/{version}", _by_path(core_lists, "version")),
        web.get("/apis/{group}", _by_path(named_groups, "group")),
        web.get("/apis/{group}/{version}", _by_path(group_lists, "group version")),
    ]
