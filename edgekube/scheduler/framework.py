"""The plugin interfaces and what one scheduling attempt shares between its steps.

Extension points, in the order the algorithm calls them for one pod:
  pre_filter(state, pod, snapshot) -> Status      once; SKIP drops the plugin's filter
  filter(state, pod, node) -> Status              per node, until enough nodes fit
  pre_score(state, pod, nodes, snapshot) -> Status once, over the feasible nodes; SKIP drops the score
  score(state, pod, node) -> (int, Status)        per feasible node
  normalize_scores(state, pod, nodes, scores)     once; maps raw scores into 0..100 in place
A plugin implements the steps it needs (`filter` and/or `score` plus optional pre-steps
and normalization); the profile finds them by attribute. Plugins hold no per-pod state:
anything a pre-step computes goes into the `CycleState`, which lives for one attempt.

The snapshot is the scheduler's cache itself: decisions are synchronous (no `await` from
pre-filter to assume), so it cannot change under a running attempt and needs no copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Protocol, TypeVar, cast, runtime_checkable

from edgekube.scheduler.nodeinfos import NodeInfo
from edgekube.scheduler.podinfos import PodInfo
from edgekube.scheduler.statuses import Status
from edgekube.scheduler.terms import AffinityTerm

MAX_NODE_SCORE = 100
MIN_NODE_SCORE = 0

T = TypeVar("T")


class CycleState:
    """Per-attempt scratch space, one entry per plugin name."""

    __slots__ = ("_data",)

    def __init__(self) -> None:
        self._data: dict[str, object] = {}

    def write(self, key: str, value: object) -> None:
        self._data[key] = value

    def read(self, key: str, kind: type[T]) -> T:
        """The value `key` holds; KeyError when its pre-step did not run.

        Not checked against `kind` at run time: this runs once per node and plugin, and each
        plugin reads only the key it wrote itself.
        """
        return cast(T, self._data[key])


class TermKind(StrEnum):
    """Which of a pod's pod-affinity term lists a term came from."""

    REQUIRED_AFFINITY = "required-affinity"
    REQUIRED_ANTI_AFFINITY = "required-anti-affinity"
    PREFERRED_AFFINITY = "preferred-affinity"
    PREFERRED_ANTI_AFFINITY = "preferred-anti-affinity"


# (term, weight; 0 for required terms) -> topology value -> how many pods hold that term there
TermDomains = Mapping[tuple[AffinityTerm, int], Mapping[str, int]]


class Snapshot(Protocol):
    """The cluster as the scheduler currently knows it (assumed pods included)."""

    def nodes(self) -> Sequence[NodeInfo]: ...

    def get(self, name: str) -> NodeInfo | None: ...

    def term_domains(self, kind: TermKind) -> TermDomains:
        """The distinct pod-affinity terms of `kind` that existing pods carry, and where those pods run."""
        ...

    def pods_for(self, term: AffinityTerm) -> Iterable[tuple[PodInfo, NodeInfo]]:
        """Existing pods that may match `term` (a superset: callers still match), with their nodes."""
        ...

    def owner_counts(self, owner_uid: str) -> Mapping[str, int]:
        """Node name -> pods there whose controller is `owner_uid`."""
        ...

    def namespace_labels(self, namespace: str) -> Mapping[str, str]: ...


class Plugin(Protocol):
    name: str


@runtime_checkable
class PreFilterPlugin(Plugin, Protocol):
    def pre_filter(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> Status: ...


@runtime_checkable
class FilterPlugin(Plugin, Protocol):
    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status: ...


@runtime_checkable
class PreScorePlugin(Plugin, Protocol):
    def pre_score(self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo], snapshot: Snapshot) -> Status: ...


@runtime_checkable
class ScorePlugin(Plugin, Protocol):
    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> tuple[int, Status]: ...


@runtime_checkable
class NormalizeScorePlugin(Plugin, Protocol):
    def normalize_scores(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo], scores: list[int]
    ) -> Status: ...


def default_normalize(scores: list[int], *, reverse: bool = False) -> None:
    """Scale so the highest raw score becomes 100 (or, reversed, the lowest does).

    Worked example: [2, 4, 0] -> [50, 100, 0]; reversed -> [50, 0, 100]. All zero -> all 0
    (reversed: all 100).
    """
    top = max(scores, default=0)
    if top <= 0:
        if reverse:
            scores[:] = [MAX_NODE_SCORE] * len(scores)
        return
    if reverse:
        scores[:] = [MAX_NODE_SCORE - MAX_NODE_SCORE * s // top for s in scores]
    else:
        scores[:] = [MAX_NODE_SCORE * s // top for s in scores]
