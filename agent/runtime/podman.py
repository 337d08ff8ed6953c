"""The Podman runtime: the interface of `agent.runtime.interface` over Podman's REST API.

Request/response calls go through one aiohttp session over the unix socket (aiohttp is
loaded anyway for the API client; podman-py would bring `requests` and `urllib3`, ~9 MB
resident, and a thread per call in flight). Long-lived streams (logs, wait, exec) are
spoken over the socket with asyncio by `podman_streams`, so cancelling them closes their
connection. Bodies are libpod's own JSON, built by `podman_specs`.

The service behind the socket is either the agent's own (`PodmanService`) or a system
one (/run/podman/podman.sock); this module does not care which.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import structlog

from agent.runtime import podman_specs as specs
from agent.runtime.errors import (
    AlreadyExistsError,
    ContainerRuntimeError,
    CreateContainerError,
    ImageImportError,
    ImageNeverPullError,
    ImagePullError,
    NotFoundError,
    RuntimeUnavailableError,
    StartContainerError,
)
from agent.runtime.interface import (
    ContainerId,
    ContainerSpec,
    ContainerStats,
    ContainerStatus,
    ContainerSummary,
    ExecChunk,
    ImageInfo,
    LogLine,
    PodSandboxSpec,
    PullPolicy,
    RuntimeVersion,
    Sandbox,
    SandboxId,
    Stream,
)
from agent.runtime.podman_streams import HttpStream, open_stream, query_items, read_frames

log = structlog.get_logger(__name__)


@dataclass
class PodmanSettings:
    socket_path: Path
    """The Podman API socket."""
    api_version: str = "4.0.0"
    """libpod API version in request paths; Podman 4.x and 5.x both serve 4.0.0."""
    connections: int = 8
    """Most request/response calls in flight at once; each (a stop waiting out its grace
    period, a pull) holds one connection to the socket, and the others queue."""
    request_timeout: float = 60.0
    """Seconds before an ordinary API call counts as hung."""
    pull_timeout: float = 1800.0
    """Seconds a pull or an archive import may take (large images over slow links)."""
    log_max_bytes: int = 10 * 1024 * 1024
    """Cap of each container's log file (SD cards wear out); older output is dropped."""
    offline_fallback: bool = True
    """Pull policy Always: use the local image when the pull fails, so pods restart while
    the node is offline (ARCHITECTURE principle 5). False is strict Kubernetes behaviour."""


@dataclass(frozen=True)
class _Answer:
    status: int
    body: Any
    message: str


class PodmanRuntime:
    def __init__(self, settings: PodmanSettings) -> None:
        self.settings = settings
        self._prefix = f"http://podman/v{settings.api_version}/libpod"
        self._session: aiohttp.ClientSession | None = None
        """Made on first use: an aiohttp session belongs to the loop it is made on."""

    # --- plumbing -----------------------------------------------------------------------

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.UnixConnector(path=str(self.settings.socket_path), limit=self.settings.connections)
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def _api(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        http_timeout: float | None = None,
        missing_ok: bool = False,
        error: type[ContainerRuntimeError] = ContainerRuntimeError,
    ) -> Any:
        """One API call; errors become the interface's typed errors."""
        try:
            answer = await self._call(method, path, params, body, http_timeout or self.settings.request_timeout)
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            raise RuntimeUnavailableError(f"{what}: podman service unreachable: {err!r}") from err
        if answer.status == 404:
            if missing_ok:
                return None
            raise NotFoundError(f"{what}: {answer.message}")
        if answer.status >= 400:
            if path.endswith("/create") and any(w in answer.message for w in ("already in use", "already exists")):
                raise AlreadyExistsError(f"{what}: {answer.message}")
            raise error(f"{what}: {answer.message}")
        return answer.body

    async def _call(
        self, method: str, path: str, params: Mapping[str, Any] | None, body: Any, seconds: float
    ) -> _Answer:
        headers: dict[str, str] = {}
        data: Any = None
        if isinstance(body, Path):
            # Streamed from the file (aiohttp reads it in its executor): archives can be larger than memory.
            data = await asyncio.to_thread(open, body, "rb")
            headers["Content-Type"] = "application/x-tar"
        elif body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        try:
            async with self._client().request(
                method.upper(),
                self._prefix + path,
                params=query_items(params),
                data=data,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=seconds),
            ) as response:
                status = response.status
                # Podman answers in UTF-8; saying so spares aiohttp guessing from the headers.
                text = (await response.read()).decode("utf-8", errors="replace")
        finally:
            if data is not None and not isinstance(data, str):
                await asyncio.to_thread(data.close)
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        message = text
        if status >= 400 and isinstance(parsed, dict):
            message = str(parsed.get("message") or parsed.get("cause") or text)
        return _Answer(status, parsed, message.strip())

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def version(self) -> RuntimeVersion:
        version = await self._api("get", "/version", what="version")
        info = await self._api("get", "/info", what="info")
        components = version.get("Components") or [{}]
        api = (components[0].get("Details") or {}).get("APIVersion", "")
        oci = ((info.get("host") or {}).get("ociRuntime") or {}).get("name", "")
        return RuntimeVersion("podman", str(version.get("Version", "")), str(api), str(oci))

    # --- images -------------------------------------------------------------------------

    async def ensure_image(self, ref: str, pull_policy: PullPolicy) -> ImageInfo:
        local = await self._local_image(ref)
        if pull_policy is PullPolicy.NEVER:
            if local is None:
                raise ImageNeverPullError(f"image {ref!r} is not present and the pull policy is Never")
            return local
        if pull_policy is PullPolicy.IF_NOT_PRESENT and local is not None:
            return local
        try:
            await self._pull(ref)
        except ImagePullError as err:
            if local is not None and self.settings.offline_fallback:
                log.warning("pull failed; using the local image", image=ref, error=str(err))
                return local
            raise
        pulled = await self._local_image(ref)
        if pulled is None:
            raise ImagePullError(f"image {ref!r} was pulled but is not present")
        return pulled

    async def _local_image(self, ref: str) -> ImageInfo | None:
        data = await self._api("get", f"/images/{ref}/json", what=f"inspect image {ref}", missing_ok=True)
        return specs.image_info(data) if data else None

    async def _pull(self, ref: str) -> None:
        params = {"reference": ref, "policy": "always", "quiet": True}
        try:
            answer = await self._api(
                "post", "/images/pull", params=params, what=f"pull {ref}", http_timeout=self.settings.pull_timeout
            )
        except ContainerRuntimeError as err:
            raise ImagePullError(str(err)) from err
        # The answer is JSON objects, one per line; a failure is an {"error": ...} among them.
        for item in _json_objects(answer):
            if item.get("error"):
                raise ImagePullError(f"pull {ref}: {item['error']}")

    async def import_image_archive(self, path: Path) -> list[str]:
        try:
            answer = await self._api(
                "post", "/images/load", body=path, what=f"load {path}", http_timeout=self.settings.pull_timeout
            )
        except (ContainerRuntimeError, OSError) as err:
            raise ImageImportError(str(err)) from err
        return [str(n) for n in (answer or {}).get("Names") or []]

    async def list_images(self) -> list[ImageInfo]:
        rows = await self._api("get", "/images/json", what="list images")
        return [specs.image_info(r) for r in rows or []]

    async def remove_image(self, ref: str) -> None:
        answer = await self._api("delete", f"/images/{ref}", what=f"remove image {ref}", missing_ok=True)
        if answer and answer.get("ExitCode"):
            raise ContainerRuntimeError(f"remove image {ref}: {answer.get('Errors')}")

    # --- sandboxes ----------------------------------------------------------------------

    async def create_pod_sandbox(self, spec: PodSandboxSpec) -> Sandbox:
        body = specs.sandbox_body(spec)
        what = f"create sandbox {body['name']}"
        created = await self._api("post", "/pods/create", body=body, what=what, error=CreateContainerError)
        sandbox = SandboxId(created["Id"])
        try:
            started = await self._api("post", f"/pods/{sandbox}/start", what=f"start sandbox {body['name']}")
            if started and started.get("Errs"):
                raise CreateContainerError(f"start sandbox {body['name']}: {started['Errs']}")
            infra = await self._api("get", f"/containers/{body['infra_name']}/json", what=what)
        except BaseException:
            await self.remove_pod_sandbox(sandbox)
            raise
        pod = {"Id": sandbox, "Name": body["name"], "Labels": body["labels"], "Created": infra.get("Created")}
        return specs.sandbox_from_inspect(pod, infra)

    async def inspect_pod_sandbox(self, sandbox: SandboxId) -> Sandbox:
        pod = await self._api("get", f"/pods/{sandbox}/json", what=f"inspect sandbox {sandbox}")
        infra_id = pod.get("InfraContainerID")
        infra = None
        if infra_id:
            infra = await self._api("get", f"/containers/{infra_id}/json", what="inspect infra", missing_ok=True)
        return specs.sandbox_from_inspect(pod, infra)

    async def remove_pod_sandbox(self, sandbox: SandboxId) -> None:
        what = f"remove sandbox {sandbox}"
        # Kill first: a forced removal waits out each container's stop timeout (and a stop
        # with t=0 means "the default 10 s" to Podman 4). The agent stops containers
        # gracefully before it gets here.
        try:
            await self._api("post", f"/pods/{sandbox}/kill", params={"signal": "SIGKILL"}, what=what)
        except NotFoundError:
            return
        except ContainerRuntimeError as err:
            if "no running containers" not in str(err):
                raise
        await self._api("delete", f"/pods/{sandbox}", params={"force": True}, what=what, missing_ok=True)

    async def list_pod_sandboxes(self, labels: Mapping[str, str] | None = None) -> list[Sandbox]:
        rows = await self._api("get", "/pods/json", params={"filters": specs.label_filters(labels)}, what="list pods")
        return [specs.sandbox_from_row(r) for r in rows or []]

    # --- containers -------------------------------------------------------------------------

    async def create_container(
        self, sandbox: SandboxId, spec: ContainerSpec, sandbox_spec: PodSandboxSpec
    ) -> ContainerId:
        body = specs.container_body(sandbox, spec, sandbox_spec, log_max_bytes=self.settings.log_max_bytes)
        what = f"create container {body['name']}"
        try:
            created = await self._api("post", "/containers/create", body=body, what=what, error=CreateContainerError)
        except NotFoundError as err:  # no such image or sandbox: the spec cannot be run as it is
            raise CreateContainerError(str(err)) from err
        return ContainerId(created["Id"])

    async def start_container(self, container: ContainerId) -> None:
        await self._api("post", f"/containers/{container}/start", what=f"start {container}", error=StartContainerError)

    async def stop_container(self, container: ContainerId, grace_period: float) -> None:
        grace = max(0, math.ceil(grace_period))
        await self._api(
            "post",
            f"/containers/{container}/stop",
            params={"timeout": grace},
            what=f"stop {container}",
            http_timeout=grace + self.settings.request_timeout,
        )

    async def remove_container(self, container: ContainerId) -> None:
        params = {"force": True, "timeout": 0, "v": True}
        await self._api("delete", f"/containers/{container}", params=params, what="remove", missing_ok=True)

    async def inspect_container(self, container: ContainerId) -> ContainerStatus:
        data = await self._api("get", f"/containers/{container}/json", what=f"inspect {container}")
        return specs.container_status(data)

    async def wait_container(self, container: ContainerId) -> int:
        stream = await self._stream("POST", f"/containers/{container}/wait", params={"condition": "exited"})
        try:
            body = await stream.read_all()
        finally:
            await stream.close()
        try:
            return int(json.loads(body))
        except (ValueError, TypeError) as err:
            raise ContainerRuntimeError(f"wait {container}: unexpected answer {body[:200]!r}") from err

    async def list_containers(
        self, labels: Mapping[str, str] | None = None, sandbox: SandboxId | None = None
    ) -> list[ContainerSummary]:
        filters = json.loads(specs.label_filters(labels))
        if sandbox is not None:
            filters["pod"] = [sandbox]
        params = {"all": True, "filters": json.dumps(filters)}
        rows = await self._api("get", "/containers/json", params=params, what="list containers")
        return [specs.container_summary(r) for r in rows or [] if not r.get("IsInfra")]

    async def stats(self, container: ContainerId) -> ContainerStats:
        params = {"containers": [container], "stream": False}
        answer = await self._api("get", "/containers/stats", params=params, what=f"stats {container}")
        if answer.get("Error"):
            raise ContainerRuntimeError(f"stats {container}: {answer['Error']}")
        rows = answer.get("Stats") or []
        if not rows:
            raise NotFoundError(f"stats {container}: no such running container")
        return specs.container_stats(rows[0])

    # --- streams ------------------------------------------------------------------------

    async def _stream(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        upgrade: bool = False,
    ) -> HttpStream:
        settings = self.settings
        return await open_stream(
            settings.socket_path, settings.api_version, method, path, params=params, body=body, upgrade=upgrade
        )

    async def logs(
        self,
        container: ContainerId,
        *,
        follow: bool = False,
        tail: int | None = None,
        since: datetime | None = None,
        timestamps: bool = False,
    ) -> AsyncIterator[LogLine]:
        params: dict[str, Any] = {"stdout": True, "stderr": True, "follow": follow, "timestamps": timestamps}
        if tail is not None:
            params["tail"] = tail
        if since is not None:
            params["since"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        stream = await self._stream("GET", f"/containers/{container}/logs", params=params)
        try:
            async for line in _log_lines(read_frames(stream, multiplexed=True), timestamps=timestamps):
                yield line
        finally:
            await stream.close()

    async def exec(
        self, container: ContainerId, cmd: Sequence[str], *, stdin: bool = False, tty: bool = False
    ) -> PodmanExecSession:
        config = {"AttachStdin": stdin, "AttachStdout": True, "AttachStderr": True, "Tty": tty, "Cmd": list(cmd)}
        created = await self._api("post", f"/containers/{container}/exec", body=config, what=f"exec in {container}")
        exec_id = str(created["Id"])
        stream = await self._stream("POST", f"/exec/{exec_id}/start", body={"Detach": False, "Tty": tty}, upgrade=True)
        return PodmanExecSession(self, exec_id, stream, tty=tty)


class PodmanExecSession:
    """An exec over an upgraded connection: stdin goes out, framed output comes back."""

    def __init__(self, runtime: PodmanRuntime, exec_id: str, stream: HttpStream, *, tty: bool) -> None:
        self._runtime = runtime
        self._id = exec_id
        self._stream = stream
        self._tty = tty

    async def output(self) -> AsyncIterator[ExecChunk]:
        async for stream, data in read_frames(self._stream, multiplexed=not self._tty):
            yield ExecChunk(stream, data)

    async def write(self, data: bytes) -> None:
        self._stream.writer.write(data)
        await self._stream.writer.drain()

    async def close_stdin(self) -> None:
        if self._stream.writer.can_write_eof():
            self._stream.writer.write_eof()

    async def resize(self, width: int, height: int) -> None:
        params = {"w": width, "h": height}
        await self._runtime._api("post", f"/exec/{self._id}/resize", params=params, what="resize exec")

    async def wait(self) -> int:
        delay = 0.01
        while True:
            info = await self._runtime._api("get", f"/exec/{self._id}/json", what="inspect exec")
            if not info.get("Running"):
                return int(info.get("ExitCode") or 0)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def close(self) -> None:
        await self._stream.close()


async def _log_lines(frames: AsyncIterator[tuple[Stream, bytes]], *, timestamps: bool) -> AsyncIterator[LogLine]:
    """Frames to whole lines: a line may arrive split over frames (Podman's partial entries)."""
    pending: dict[Stream, tuple[datetime | None, str]] = {}
    async for stream, payload in frames:
        text = payload.decode(errors="replace")
        stamp = None
        if timestamps:
            head, _, rest = text.partition(" ")
            stamp = specs.parse_time(head)
            if stamp is not None:
                text = rest
        if stream in pending:
            earlier, start = pending.pop(stream)
            stamp, text = earlier or stamp, start + text
        *complete, rest_of_line = text.split("\n")
        for line in complete:
            yield LogLine(stream, line, stamp)
        if rest_of_line:
            pending[stream] = (stamp, rest_of_line)
    for stream, (stamp, text) in pending.items():
        yield LogLine(stream, text, stamp)


def _json_objects(answer: Any) -> list[dict[str, Any]]:
    """The objects of a streamed JSON answer (already one object if it was a single one)."""
    if isinstance(answer, dict):
        return [answer]
    if not isinstance(answer, str):
        return []
    decoder = json.JSONDecoder()
    objects, pos = [], 0
    text = answer.strip()
    while pos < len(text):
        item, end = decoder.raw_decode(text, pos)
        if isinstance(item, dict):
            objects.append(item)
        pos = end
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return objects
