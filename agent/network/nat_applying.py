"""Getting Service NAT into the kernel: one full transaction, or small ones per changed service.

`NatApplier` remembers what it last applied per service (`ServiceRules`), so a change of
one service becomes a transaction that touches only that service's chains, sets and map
elements (`update_commands`). A full sync rebuilds the whole table in one `nft -f -`.
Either transaction is all-or-nothing; state here changes only after the kernel took it,
and a failed update leaves the caller to do a full sync, which starts from scratch.

Map keys are claimed first come, first served (`Claims`): two LoadBalancer services on
the same port would otherwise put one key in a map twice and nft would refuse the whole
transaction. The loser gets the key when the winner lets it go (as k3s's servicelb keeps
the second service pending).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import structlog

from agent.network.nat_model import ServiceNat
from agent.network.nat_rendering import (
    IP_MAPS,
    MAPS,
    Element,
    NatContext,
    ServiceRules,
    base_chains,
    full_ruleset,
    render_service,
    update_commands,
)
from agent.network.nft import apply_ruleset

log = structlog.get_logger(__name__)
Slot = tuple[str, str]  # ("ip" | "port", key): maps of one kind share their key space


def _slot(el: Element) -> Slot:
    return ("ip" if el.map in IP_MAPS else "port", el.key)


@dataclass
class Claims:
    """Which service owns each map key, and who else wants it."""

    owner: dict[Slot, str] = field(default_factory=dict)
    wanted: dict[Slot, set[str]] = field(default_factory=dict)

    def take(self, rules: ServiceRules) -> ServiceRules:
        """`rules` with only the elements whose keys this service owns (claiming free ones)."""
        kept: list[Element] = []
        seen: set[Slot] = set()
        for el in rules.elements:
            slot = _slot(el)
            self.wanted.setdefault(slot, set()).add(rules.key)
            owner = self.owner.setdefault(slot, rules.key)
            if owner != rules.key:
                log.warning("service key already taken", service=rules.key, key=el.key, owner=owner)
            elif slot not in seen:
                seen.add(slot)
                kept.append(el)
        return replace(rules, elements=tuple(kept))

    def give_up(self, rules: ServiceRules) -> set[str]:
        """Release what `rules` (as wanted, unfiltered) claimed; the services waiting for a freed key."""
        waiting: set[str] = set()
        for el in rules.elements:
            slot = _slot(el)
            wanters = self.wanted.get(slot)
            if wanters is not None:
                wanters.discard(rules.key)
                if not wanters:
                    del self.wanted[slot]
            if self.owner.get(slot) == rules.key:
                del self.owner[slot]
                waiting |= wanters or set()
        return waiting


@dataclass(frozen=True)
class Expected:
    """What the table should hold, in the terms the cheap drift check can read back."""

    chains: frozenset[str]
    map_sizes: dict[str, int]


class NatApplier:
    """The last applied state of table `ip <ctx.table>`, and the transactions that move it."""

    def __init__(self, ctx: NatContext) -> None:
        self.ctx = ctx
        self._wanted: dict[str, ServiceRules] = {}
        """Per service: its rules as rendered (before claims)."""
        self._applied: dict[str, ServiceRules] = {}
        """Per service: what is in the kernel (after claims)."""
        self._claims = Claims()
        self.synced = False
        """A full sync went through and nothing failed since."""

    async def full_sync(self, services: Iterable[ServiceNat]) -> None:
        """Replace the whole table by `services` in one transaction."""
        claims = Claims()
        wanted = {svc.key: render_service(svc, self.ctx) for svc in sorted(services, key=lambda s: s.key)}
        applied = {key: claims.take(rules) for key, rules in wanted.items()}
        self.synced = False
        await apply_ruleset(full_ruleset(applied.values(), self.ctx))
        self._wanted, self._applied, self._claims = wanted, applied, claims
        self.synced = True

    async def update(self, changes: dict[str, ServiceNat | None]) -> set[str]:
        """Apply changed services (None: gone) in one transaction; the services to look at again.

        On NftError the state here no longer matches the kernel for sure: `synced` turns
        False and the caller must do a full sync.
        """
        if not self.synced:
            raise RuntimeError("update before a full sync")
        requeue: set[str] = set()
        commands: list[str] = []
        for key, svc in changes.items():
            old_wanted = self._wanted.pop(key, None)
            if old_wanted is not None:
                requeue |= self._claims.give_up(old_wanted)
            old = self._applied.pop(key, None)
            new = None
            if svc is not None:
                self._wanted[key] = render_service(svc, self.ctx)
                new = self._applied[key] = self._claims.take(self._wanted[key])
            commands += update_commands(old, new, self.ctx.table)
        if commands:
            self.synced = False
            await apply_ruleset("\n".join(commands) + "\n")
            self.synced = True
        # Also services of this batch: one handled before the key it waits for was freed needs another look.
        return requeue

    def expected(self) -> Expected:
        chains = {name for name, _hook, _rules in base_chains(self.ctx)}
        sizes = dict.fromkeys(MAPS, 0)
        for rules in self._applied.values():
            chains.update(name for name, _ in rules.chains)
            for el in rules.elements:
                sizes[el.map] += 1
        return Expected(chains=frozenset(chains), map_sizes=sizes)

    @property
    def services(self) -> int:
        return len(self._applied)
