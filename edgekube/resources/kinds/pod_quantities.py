"""Kubernetes resource quantities ("100m", "128Mi", "1e3") as exact decimal numbers.

A quantity is a signed decimal number followed by at most one suffix: a binary SI
suffix (Ki, Mi, Gi, Ti, Pi, Ei: powers of 1024), a decimal SI suffix (n, u, m, k, M,
G, T, P, E: powers of 1000) or a decimal exponent (e3, E-2). JSON numbers are accepted
too, as the Kubernetes API accepts `cpu: 1`. Values are `Decimal` so that "0.1" plus
"0.2" compares equal to "300m"; floats would not.
"""

from __future__ import annotations

import re
from decimal import Decimal, DecimalException, localcontext
from typing import Any

# The message Kubernetes gives for a string that is not a quantity.
QUANTITY_FORMAT_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$"
)

_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
# Decimal suffixes as powers of ten; "E" alone is exa, "E3" is an exponent.
_DECIMAL = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
# Digits kept while scaling: far more than any real amount needs, so no rounding happens.
_PRECISION = 64


def parse_quantity(value: Any) -> Decimal:
    """The number `value` stands for; ValueError when it is not a quantity.

    Worked examples: "100m" -> 0.1, "0.5" -> 0.5, "128Mi" -> 134217728, "1G" ->
    1000000000, "1e3" -> 1000, 2 -> 2.
    """
    if isinstance(value, bool):
        raise ValueError(QUANTITY_FORMAT_ERROR)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(QUANTITY_FORMAT_ERROR)
        return Decimal(repr(value))
    if not isinstance(value, str):
        raise ValueError(QUANTITY_FORMAT_ERROR)
    match = _QUANTITY.match(value)
    if match is None:
        raise ValueError(QUANTITY_FORMAT_ERROR)
    number = Decimal(match["number"])
    suffix = match["suffix"] or ""
    try:
        with localcontext(prec=_PRECISION):
            return _scale(number, suffix)
    except DecimalException as err:
        # An exponent past what `Decimal` can hold ("1e9999999999") is not a usable amount.
        raise ValueError(QUANTITY_FORMAT_ERROR) from err


def _scale(number: Decimal, suffix: str) -> Decimal:
    if suffix in _BINARY:
        return number * (Decimal(1024) ** _BINARY[suffix])
    if suffix in _DECIMAL:
        return number.scaleb(_DECIMAL[suffix])
    if suffix:
        return number.scaleb(int(suffix[1:]))
    return number


def is_quantity(value: Any) -> bool:
    """Whether `parse_quantity(value)` succeeds."""
    try:
        parse_quantity(value)
    except ValueError:
        return False
    return True
