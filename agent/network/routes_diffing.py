"""Desired vs actual `RouteState` -> the `Plan` that closes the gap. Pure.

Level-triggered: the plan depends only on the two states, never on which events arrived,
so running it again after a failure or a missed event converges all the same. An empty
plan means the kernel is right. Everything `actual` holds is ours by construction (see
`routes_states`), so anything in it that is not desired is deleted: routes of nodes that
left, of the other backend, or that someone changed by hand.
"""

from __future__ import annotations

from agent.network.routes_states import Plan, RouteState


def diff(desired: RouteState, actual: RouteState) -> Plan:
    """What to replace, add and delete so that `actual` becomes `desired` (sorted, for stable logs)."""
    plan = Plan()
    for dst, want in sorted(desired.routes.items()):
        have = actual.routes.get(dst)
        if have is None or not have.satisfies(want):
            # `replace` swaps a wrong route for the right one in one netlink call.
            plan.replace_routes.append(want)
    plan.delete_routes = sorted(have for dst, have in actual.routes.items() if dst not in desired.routes)
    plan.add_fdb = sorted(desired.fdb - actual.fdb)
    plan.delete_fdb = sorted(actual.fdb - desired.fdb)
    plan.replace_neighbours = sorted(
        want for ip, want in desired.neighbours.items() if actual.neighbours.get(ip) != want
    )
    plan.delete_neighbours = sorted(have for ip, have in actual.neighbours.items() if ip not in desired.neighbours)
    return plan
