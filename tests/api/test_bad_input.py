"""Bad requests get a Status with the right code and an actionable message, and change nothing."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson
import pytest

CM_URL = "/api/v1/namespaces/{ns}/configmaps"


def configmap(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


async def status_of(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    body: dict[str, Any] = await resp.json(content_type=None)
    assert body["kind"] == "Status" and body["status"] == "Failure", body
    assert body["code"] == resp.status
    return body


CASES = [
    # (name, method, path, content type, body bytes, code, reason, words in message)
    ("malformed json", "POST", CM_URL, "application/json", b'{"metadata": {', 400, "BadRequest", "not valid JSON"),
    ("malformed yaml", "POST", CM_URL, "application/yaml", b"metadata: [unclosed", 400, "BadRequest", "not valid YAML"),
    ("not an object", "POST", CM_URL, "application/json", b"[1, 2]", 400, "BadRequest", "ConfigMap object"),
    (
        "wrong kind",
        "POST",
        CM_URL,
        "application/json",
        orjson.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}),
        400,
        "BadRequest",
        "kind",
    ),
    (
        "wrong namespace",
        "POST",
        CM_URL,
        "application/json",
        orjson.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "other"}}),
        400,
        "BadRequest",
        "namespace",
    ),
    ("unknown kind", "GET", "/api/v1/namespaces/{ns}/widgets", "", b"", 404, "NotFound", "widgets"),
    ("unknown version", "GET", "/apis/apps/v9/deployments", "", b"", 404, "NotFound", "apps/v9"),
    (
        "bad name",
        "POST",
        CM_URL,
        "application/json",
        orjson.dumps(configmap("Not_Valid")),
        422,
        "Invalid",
        "metadata.name",
    ),
    ("bad label selector", "GET", CM_URL + "?labelSelector=a%20in%20(", "", b"", 400, "BadRequest", "parse"),
    (
        "unsupported field selector",
        "GET",
        CM_URL + "?fieldSelector=spec.foo%3Dx",
        "",
        b"",
        400,
        "BadRequest",
        "field label not supported",
    ),
    ("bad patch type", "PATCH", CM_URL + "/keep", "text/plain", b"{}", 415, "UnsupportedMediaType", "patch"),
    (
        "bad json patch",
        "PATCH",
        CM_URL + "/keep",
        "application/json-patch+json",
        b'[{"op": "remove", "path": "/data/missing"}]',
        400,
        "BadRequest",
        "missing",
    ),
    (
        "strict unknown field",
        "POST",
        CM_URL + "?fieldValidation=Strict",
        "application/json",
        orjson.dumps({**configmap("strict"), "bogus": 1}),
        400,
        "BadRequest",
        'unknown field "bogus"',
    ),
    (
        "wrong type",
        "POST",
        CM_URL,
        "application/json",
        orjson.dumps({**configmap("typed"), "data": {"a": 5}}),
        422,
        "Invalid",
        "data",
    ),
    (
        "missing namespace",
        "POST",
        "/api/v1/namespaces/no-such-ns/configmaps",
        "application/json",
        orjson.dumps(configmap("x")),
        404,
        "NotFound",
        'namespaces "no-such-ns" not found',
    ),
    (
        "name mismatch",
        "PUT",
        CM_URL + "/keep",
        "application/json",
        orjson.dumps(configmap("other")),
        400,
        "BadRequest",
        "does not match the name",
    ),
    (
        "bad dryRun",
        "POST",
        CM_URL + "?dryRun=Some",
        "application/json",
        orjson.dumps(configmap("d")),
        400,
        "BadRequest",
        "dryRun",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "ctype", "body", "code", "reason", "words"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
async def test_rejected_requests(
    http: aiohttp.ClientSession,
    namespace: str,
    method: str,
    path: str,
    ctype: str,
    body: bytes,
    code: int,
    reason: str,
    words: str,
) -> None:
    """Each bad request gets its code, reason and a message naming the problem; `keep` is untouched."""
    url = CM_URL.format(ns=namespace)
    async with http.post(url, json=configmap("keep", a="1")) as r:
        assert r.status == 201
        kept = await r.json()
    headers = {"Content-Type": ctype} if ctype else {}
    async with http.request(method, path.format(ns=namespace), data=body or None, headers=headers) as r:
        assert r.status == code, await r.text()
        status = await status_of(r)
    assert status["reason"] == reason
    assert words in status["message"], status["message"]
    async with http.get(f"{url}/keep") as r:
        after = await r.json()
    assert after == kept


async def test_body_too_large(http: aiohttp.ClientSession, namespace: str) -> None:
    """A body over 3 MiB is refused with 413 before it is parsed."""
    big = orjson.dumps(configmap("big", a="x" * (3 * 1024 * 1024 + 10)))
    async with http.post(CM_URL.format(ns=namespace), data=big, headers={"Content-Type": "application/json"}) as r:
        assert r.status == 413
        status = await status_of(r)
    assert status["reason"] == "RequestEntityTooLarge"


async def test_validation_lists_every_cause(http: aiohttp.ClientSession, namespace: str) -> None:
    """A 422 names each bad field in details.causes."""
    bad = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "labels": {"bad key!": "v", "ok": "bad value!"}},
    }
    async with http.post(CM_URL.format(ns=namespace), json=bad) as r:
        assert r.status == 422
        status = await status_of(r)
    fields = [c.get("field") for c in status["details"]["causes"]]
    assert fields.count("metadata.labels") == 2


async def test_conflict_on_stale_resource_version(http: aiohttp.ClientSession, namespace: str) -> None:
    """PUT with an old resourceVersion is 409 Conflict and the newer write stands."""
    url = CM_URL.format(ns=namespace)
    async with http.post(url, json=configmap("c", v="1")) as r:
        first = await r.json()
    newer = {**first, "data": {"v": "2"}}
    async with http.put(f"{url}/c", json=newer) as r:
        assert r.status == 200
    stale = {**first, "data": {"v": "3"}}
    async with http.put(f"{url}/c", json=stale) as r:
        assert r.status == 409
        status = await status_of(r)
    assert status["reason"] == "Conflict" and "modified" in status["message"]
    async with http.get(f"{url}/c") as r:
        assert (await r.json())["data"] == {"v": "2"}


async def test_duplicate_create(http: aiohttp.ClientSession, namespace: str) -> None:
    """Creating an existing name is 409 AlreadyExists."""
    url = CM_URL.format(ns=namespace)
    async with http.post(url, json=configmap("dup")) as r:
        assert r.status == 201
    async with http.post(url, json=configmap("dup")) as r:
        assert r.status == 409
        assert (await status_of(r))["reason"] == "AlreadyExists"
