"""Container runtimes of the node agent: the interface, Podman, and an in-memory fake.

Only this package speaks to Podman (STYLE: layers). The agent depends on
`agent.runtime.interface` and `agent.runtime.errors`; it picks an implementation once,
at start-up (`PodmanRuntime` on a real node, `FakeRuntime` for simulated nodes).
"""
