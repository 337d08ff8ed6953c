"""HTTP handlers for the OpenAPI v3 documents: GET /openapi/v3 and /openapi/v3/<group-version>.

Flow: request -> pre-rendered bytes from `OpenAPIDocuments` -> response; nothing is
rendered per request. Caching follows Kubernetes: the index links each document with
`?hash=<content hash>`; a request carrying the current hash may be cached forever, one
carrying a stale hash is redirected to the current URL, and `If-None-Match` on the ETag
(the quoted hash) gets 304. Unknown group-versions raise `NotFound`, which the error
middleware turns into a Status. /openapi/v2 is not served: kubectl then uses v3.
"""

from __future__ import annotations

from aiohttp import web

from edgekube.errors import NotFound
from edgekube.resources.openapi.documents import OpenAPIDocuments

JSON = "application/json"
_NOT_FOUND = "the server could not find the requested resource"


def routes(documents: OpenAPIDocuments) -> list[web.RouteDef]:
    async def index(request: web.Request) -> web.StreamResponse:
        return _respond(request, documents.index(), None, documents.index_hash(), cacheable=False)

    async def document(request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"].strip("/")
        digest = documents.hash(path)
        if digest is None:
            raise NotFound(_NOT_FOUND)
        asked = request.query.get("hash")
        if asked is not None and asked != digest:
            return web.Response(
                status=301,
                headers={"Location": f"/openapi/v3/{path}?hash={digest}", "Cache-Control": "no-cache, private"},
            )
        if _accepts_gzip(request):
            return _respond(request, None, documents.document_gzip(path), digest, cacheable=asked is not None)
        return _respond(request, documents.document(path), None, digest, cacheable=asked is not None)

    async def v2(request: web.Request) -> web.StreamResponse:
        raise NotFound(_NOT_FOUND)

    return [
        web.get("/openapi/v3", index),
        web.get("/openapi/v3/{path:.*}", document),
        web.get("/openapi/v2", v2),
    ]


def _accepts_gzip(request: web.Request) -> bool:
    return "gzip" in request.headers.get("Accept-Encoding", "").lower()


def _respond(
    request: web.Request,
    plain: bytes | None,
    gzipped: bytes | None,
    digest: str,
    *,
    cacheable: bool,
) -> web.StreamResponse:
    """`plain` or `gzipped` body with ETag and cache headers; 304 when the client has it."""
    etag = f'"{digest}"'
    headers = {
        "ETag": etag,
        "Vary": "Accept-Encoding",
        # With the hash in the URL the content can never change; without it, revalidate.
        "Cache-Control": "public, max-age=31536000, immutable" if cacheable else "no-cache, private",
    }
    if etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    if gzipped is not None:
        headers["Content-Encoding"] = "gzip"
        return web.Response(body=gzipped, content_type=JSON, headers=headers)
    return web.Response(body=plain, content_type=JSON, headers=headers)
