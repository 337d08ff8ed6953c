"""Whether the server answers, as the agent's loops last found it, and who to tell when it returns.

Every loop that talks to the server reports the outcome (`reached` / `lost`). The first
success after a failure calls the `on_return` callbacks: the pod watch restarts at once
instead of waiting out its retry delay, and unsent statuses go out. Callbacks must not
block; they set events or start tasks.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

log = structlog.get_logger(__name__)


class Connectivity:
    def __init__(self) -> None:
        self.online: bool | None = None
        """None until the first contact attempt."""
        self._on_return: list[Callable[[], None]] = []

    def on_return(self, callback: Callable[[], None]) -> None:
        self._on_return.append(callback)

    def reached(self) -> None:
        was = self.online
        self.online = True
        if was is False:
            log.info("server reachable again")
            for callback in self._on_return:
                callback()

    def lost(self, error: object) -> None:
        if self.online is not False:
            log.warning("server unreachable; carrying on from the local copy", error=str(error))
        self.online = False
