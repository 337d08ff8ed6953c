"""`ClusterZone`: the records the resolver answers from, kept level with the watch caches.

Watch handlers only mark the zone changed (they must not work); the next query rebuilds
the records from the caches once, however many events came in between. The source says
None until both watches have listed once: until then there are no records (cluster names
get SERVFAIL, not a denial built from an empty view). After that the caches stay as last
seen while the server is away, so the zone keeps answering from them (the offline rule).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import structlog

from agent.dns.records import ClusterRecords, build_records, cluster_domain_name

log = structlog.get_logger(__name__)

Obj = dict[str, Any]
Source = Callable[[], tuple[Iterable[Obj], Iterable[Obj]] | None]
"""Returns (services, endpoint slices), or None while they are not known yet."""


class ClusterZone:
    def __init__(self, domain: str, source: Source) -> None:
        self.domain = cluster_domain_name(domain)
        self._source = source
        self._records: ClusterRecords | None = None
        self._changed = True
        self.builds = 0
        """How many times the records were rebuilt (tests and metrics)."""

    def changed(self, _type: str = "", _obj: Obj | None = None) -> None:
        """A watch handler: remember that the records must be rebuilt before the next answer."""
        self._changed = True

    def records(self) -> ClusterRecords | None:
        """The current records, or None while the source has never been known."""
        if self._changed:
            view = self._source()
            if view is None:
                return self._records
            started = time.perf_counter()
            services, slices = view
            self._records = build_records(services, slices, domain=self.domain.to_text())
            self._changed = False
            self.builds += 1
            log.debug(
                "cluster records rebuilt",
                names=len(self._records.names),
                seconds=round(time.perf_counter() - started, 4),
            )
        return self._records
