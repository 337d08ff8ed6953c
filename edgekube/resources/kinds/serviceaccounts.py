"""The ServiceAccount kind (v1): an identity for processes in pods.

Only the shared metadata rules apply; the table counts the listed secrets, as kubectl
shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edgekube.resources.objects import Obj, get_path
from edgekube.resources.strategy import AGE_COLUMN, NAME_COLUMN, Column, Kind, Strategy, age

KIND = Kind(
    group='',
    version='v1',
    kind='ServiceAccount',
    plural='serviceaccounts',
    singular='serviceaccount',
    namespaced=True,
    short_names=('sa',),
    categories=(),
    has_status=False,
    has_scale=False,
)

COLUMNS = (
    NAME_COLUMN,
    Column("Secrets", description="Number of secrets listed for this service account"),
    AGE_COLUMN,
)


@dataclass
class ServiceAccountStrategy(Strategy):
    """ServiceAccounts: the shared metadata rules and a SECRETS count."""

    columns: tuple[Column, ...] = COLUMNS

    def row(self, obj: Obj, now: datetime) -> list[Any]:
        secrets = obj.get("secrets")
        count = len(secrets) if isinstance(secrets, list) else 0
        return [get_path(obj, "metadata", "name"), count, age(obj, now)]


STRATEGY = ServiceAccountStrategy(KIND, tracks_generation=False)
