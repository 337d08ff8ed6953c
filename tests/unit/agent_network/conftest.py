"""The pod-worker fixtures of tests/unit/agent (fake runtime, recording context), shared here."""

from tests.unit.agent.conftest import ctx, fake, no_leftover_tasks

__all__ = ["ctx", "fake", "no_leftover_tasks"]
