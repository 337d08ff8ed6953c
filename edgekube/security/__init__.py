"""Server identity and credentials: the TLS CA and serving certificate, bearer tokens, kubeconfigs.

Everything here reads and writes small files under the data directory. The calls block
(key generation, file I/O), so async callers run them with `asyncio.to_thread`.
"""
