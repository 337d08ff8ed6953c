"""One probe attempt per handler: exec, httpGet, tcpSocket (gRPC is reported unsupported).

A handler never raises for an expected failure (refused, timed out, bad status, exit
code 1); it returns a failed `ProbeResult` whose message reads like the kubelet's, for
the pod's Events. The timeout covers the whole attempt: connecting, sending, and the
answer's status line (or, for exec, the command's end).

- exec: the command runs in the container through the runtime; success is exit code 0.
- httpGet: a GET from inside the pod's network namespace (see `netns`); success is a
  status from 200 to 399. Redirects are not followed: a 3xx counts as success.
  HTTPS does not verify the certificate, as the kubelet does not.
- tcpSocket: success is an accepted connection.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from agent.probes.netns import open_socket
from agent.probes.results import ProbeResult, ProbeTarget
from agent.runtime.errors import ContainerRuntimeError
from agent.runtime.interface import exec_output

USER_AGENT = "kube-probe/1.32"
MAX_MESSAGE = 10 * 1024
"""Output kept from a failed exec probe, as the kubelet keeps."""


class Handler(Protocol):
    async def check(self, target: ProbeTarget, timeout_seconds: float) -> ProbeResult: ...


@dataclass(frozen=True)
class ExecHandler:
    command: tuple[str, ...]

    async def check(self, target: ProbeTarget, timeout_seconds: float) -> ProbeResult:
        if not self.command:
            return ProbeResult(False, "exec probe has no command")
        try:
            result = await exec_output(
                target.runtime, target.container_id, self.command, timeout_seconds=timeout_seconds
            )
        except TimeoutError:
            return ProbeResult(False, f"command {list(self.command)} timed out after {timeout_seconds:g}s")
        except ContainerRuntimeError as err:
            return ProbeResult(False, f"exec probe failed: {err}")
        if result.exit_code == 0:
            return ProbeResult(True)
        output = (result.stdout + result.stderr)[:MAX_MESSAGE].decode(errors="replace").strip()
        return ProbeResult(False, f"command {list(self.command)} exited with {result.exit_code}: {output}".strip())


def resolve_port(port: Any, target: ProbeTarget) -> int:
    """A probe's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int) and not isinstance(port, bool):
        number = port
    elif isinstance(port, str) and port.isdigit():
        number = int(port)
    elif isinstance(port, str) and port in target.ports:
        number = target.ports[port]
    else:
        raise ValueError(f"port {port!r} is neither a number nor a named port of the container")
    if not 0 < number < 65536:
        raise ValueError(f"port {number} is out of range")
    return number


@dataclass(frozen=True)
class TcpSocketHandler:
    host: str
    port: Any

    async def check(self, target: ProbeTarget, timeout_seconds: float) -> ProbeResult:
        host = self.host or target.pod_ip or "127.0.0.1"
        try:
            port = resolve_port(self.port, target)
            async with asyncio.timeout(timeout_seconds):
                sock = await open_socket(target.netns_path, host, port, timeout_seconds)
        except TimeoutError:
            return ProbeResult(False, f"dial tcp {host}:{self.port}: i/o timeout")
        except (OSError, ValueError) as err:
            return ProbeResult(False, f"dial tcp {host}:{self.port}: {_reason(err)}")
        sock.close()
        return ProbeResult(True)


@dataclass(frozen=True)
class HttpGetHandler:
    host: str
    port: Any
    path: str = "/"
    scheme: str = "HTTP"
    headers: tuple[tuple[str, str], ...] = ()

    async def check(self, target: ProbeTarget, timeout_seconds: float) -> ProbeResult:
        host = self.host or target.pod_ip or "127.0.0.1"
        url = f"{self.scheme.lower()}://{host}:{self.port}{self.path}"
        try:
            port = resolve_port(self.port, target)
            async with asyncio.timeout(timeout_seconds):
                code = await self._get(target, host, port, timeout_seconds)
        except TimeoutError:
            return ProbeResult(False, f"Get {url!r}: context deadline exceeded (timeout {timeout_seconds:g}s)")
        except (OSError, ValueError, asyncio.IncompleteReadError) as err:
            return ProbeResult(False, f"Get {url!r}: {_reason(err)}")
        if 200 <= code < 400:
            return ProbeResult(True, f"HTTP probe succeeded with a redirect ({code})" if code >= 300 else "")
        return ProbeResult(False, f"HTTP probe failed with statuscode: {code}")

    async def _get(self, target: ProbeTarget, host: str, port: int, timeout_seconds: float) -> int:
        sock = await open_socket(target.netns_path, host, port, timeout_seconds)
        context = None
        if self.scheme.upper() == "HTTPS":
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        try:
            reader, writer = await asyncio.open_connection(
                sock=sock, ssl=context, server_hostname=host if context else None
            )
        except BaseException:
            sock.close()
            raise
        try:
            writer.write(self._request(host, port))
            await writer.drain()
            return parse_status_line(await reader.readuntil(b"\n"))
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except (OSError, ssl.SSLError):
                pass

    def _request(self, host: str, port: int) -> bytes:
        path = self.path if self.path.startswith("/") else "/" + self.path
        defaults = {"Host": f"{host}:{port}", "User-Agent": USER_AGENT, "Accept": "*/*"}
        given = {name.lower() for name, _ in self.headers}
        lines = [f"GET {path} HTTP/1.1"]
        lines += [f"{name}: {value}" for name, value in defaults.items() if name.lower() not in given]
        lines += [f"{name}: {value}" for name, value in self.headers]
        lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")


def parse_status_line(line: bytes) -> int:
    """The status code of `HTTP/1.1 200 OK`; ValueError for anything else."""
    parts = line.decode("latin-1").split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ValueError(f"malformed HTTP response {line[:80]!r}")
    return int(parts[1])


@dataclass(frozen=True)
class UnsupportedHandler:
    message: str

    async def check(self, target: ProbeTarget, timeout_seconds: float) -> ProbeResult:
        return ProbeResult(False, self.message)


def handler_for(probe: Mapping[str, Any]) -> Handler:
    """The handler a probe (or lifecycle hook) names."""
    if isinstance(probe.get("exec"), dict):
        return ExecHandler(tuple(str(a) for a in probe["exec"].get("command") or ()))
    if isinstance(probe.get("httpGet"), dict):
        get = probe["httpGet"]
        headers = tuple((str(h.get("name", "")), str(h.get("value", ""))) for h in get.get("httpHeaders") or [])
        return HttpGetHandler(
            host=str(get.get("host") or ""),
            port=get.get("port"),
            path=str(get.get("path") or "/"),
            scheme=str(get.get("scheme") or "HTTP").upper(),
            headers=headers,
        )
    if isinstance(probe.get("tcpSocket"), dict):
        return TcpSocketHandler(host=str(probe["tcpSocket"].get("host") or ""), port=probe["tcpSocket"].get("port"))
    if isinstance(probe.get("grpc"), dict):
        return UnsupportedHandler("gRPC probes are not supported by EdgeKube; use exec, httpGet or tcpSocket")
    return UnsupportedHandler("the probe names no handler (exec, httpGet, tcpSocket)")


def _reason(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror:
        return f"connect: {err.strerror.lower()}"
    return str(err) or type(err).__name__
