"""Resource amounts for quota: `{resource name: Decimal}` maps, their arithmetic and their text.

Amounts are exact decimals (`pod_quantities.parse_quantity`). Text follows the canonical
form of a Kubernetes quantity, so status and messages read as kubectl users expect:
the largest suffix that keeps the number whole. Byte amounts (memory, storage) use binary
suffixes when they divide evenly, everything else decimal ones:

    0.5 cpu -> "500m"    2 cpu -> "2"    1500 -> "1500"    2000 -> "2k"
    536870912 memory -> "512Mi"    500000000 memory -> "500M"    1e-10 -> "1n" (rounded up)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_CEILING, Decimal

Amounts = dict[str, Decimal]

_BINARY = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
_DECIMAL = {-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E"}
_BYTE_NAMES = ("memory", "storage", "ephemeral-storage")


def is_bytes(name: str) -> bool:
    """Whether `name` counts bytes (`limits.memory`, `requests.storage`, `hugepages-2Mi`, ...)."""
    last = name.rsplit("/", 1)[-1].rsplit(".", 1)[-1]
    return last in _BYTE_NAMES or "hugepages-" in name


def format_quantity(amount: Decimal, *, binary: bool = False) -> str:
    """The canonical text of `amount`; see the module docstring for worked examples."""
    if amount == 0:
        return "0"
    if binary and amount == amount.to_integral_value() and abs(amount) >= 1024:
        number, power = int(amount), 0
        while power < len(_BINARY) - 1 and number % 1024 == 0:
            number //= 1024
            power += 1
        if power:
            return f"{number}{_BINARY[power]}"
    # Nanounits are the finest Kubernetes keeps; anything smaller rounds up to 1n.
    number = int((amount * Decimal(10) ** 9).to_integral_value(rounding=ROUND_CEILING))
    exponent = -9
    while exponent < 18 and number % 1000 == 0:
        number //= 1000
        exponent += 3
    return f"{number}{_DECIMAL[exponent]}"


def format_amount(name: str, amount: Decimal) -> str:
    return format_quantity(amount, binary=is_bytes(name))


def added(a: Mapping[str, Decimal], b: Mapping[str, Decimal]) -> Amounts:
    out = dict(a)
    for name, amount in b.items():
        out[name] = out.get(name, Decimal(0)) + amount
    return out


def masked(amounts: Mapping[str, Decimal], names: Iterable[str]) -> Amounts:
    """Only the entries of `amounts` whose names are in `names`."""
    keep = set(names)
    return {name: amount for name, amount in amounts.items() if name in keep}


def growth(new: Mapping[str, Decimal], old: Mapping[str, Decimal]) -> Amounts:
    """What `new` needs beyond `old`, per name, leaving out names that did not grow."""
    out: Amounts = {}
    for name, amount in new.items():
        more = amount - old.get(name, Decimal(0))
        if more > 0:
            out[name] = more
    return out


def shown(amounts: Mapping[str, Decimal]) -> str:
    """`pods=1,requests.cpu=500m`: Kubernetes' text for a map in quota messages (sorted, no spaces)."""
    return ",".join(f"{name}={format_amount(name, amounts[name])}" for name in sorted(amounts))
