"""The in-process service fixture, shared with the controller tests."""

from __future__ import annotations

from tests.unit.controllers.conftest import service

__all__ = ["service"]
