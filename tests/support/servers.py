"""Real `edgekube server` processes for tests: start, wait until ready, stop or kill.

Each server gets its own data dir and a free loopback port, and writes its admin
kubeconfig into the data dir, so tests never touch /etc or /var/lib.
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

START_TIMEOUT = 60.0  # the first start builds the OpenAPI schema cache (a few seconds)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    data_dir: Path
    port: int
    extra_args: list[str] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "admin.yaml"

    @property
    def token(self) -> str:
        return (self.data_dir / "server" / "token").read_text().strip()

    @property
    def ca_file(self) -> Path:
        return self.data_dir / "server" / "tls" / "ca.crt"

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def start(self) -> ServerProcess:
        self.log_path = self.data_dir / f"server-{int(time.time() * 1000)}.log"
        args = [
            sys.executable,
            "-m",
            "edgekube",
            "server",
            "--data-dir",
            str(self.data_dir),
            "--bind-address",
            "127.0.0.1",
            "--https-listen-port",
            str(self.port),
            "--write-kubeconfig",
            str(self.kubeconfig),
            "--disable-agent",
            "--log-format",
            "json",
            *self.extra_args,
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDGEKUBE_")}
        # Reuse one schema cache across the test session's servers: building it costs seconds.
        shared_cache = os.environ.get("EDGEKUBE_TEST_SCHEMA_CACHE")
        if shared_cache:
            target = self.data_dir / "server"
            target.mkdir(parents=True, exist_ok=True)
            for cached in Path(shared_cache).glob("schema-*.json"):
                dest = target / cached.name
                if not dest.exists():
                    dest.write_bytes(cached.read_bytes())
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            if self.kubeconfig.exists() and self.ca_file.exists():
                try:
                    with urllib.request.urlopen(f"{self.url}/readyz", context=self.ssl_context(), timeout=2) as r:
                        if r.status == 200:
                            return
                except OSError:
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"server not ready after {START_TIMEOUT}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path and self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def kubeconfig_data(self) -> dict[str, object]:
        data: dict[str, object] = yaml.safe_load(self.kubeconfig.read_text())
        return data
