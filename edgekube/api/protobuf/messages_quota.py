"""Wire-format tables of the core/v1 ResourceQuota messages, in the shape of `messages.MESSAGES`.

Field numbers from k8s.io/api core/v1 generated.proto (kubernetes/api at commit
35f2b3a24dcf): ResourceQuota metadata=1 spec=2 status=3; ResourceQuotaSpec hard=1
(map<string, Quantity>) scopes=2 scopeSelector=3; ResourceQuotaStatus hard=1 used=2;
ScopeSelector matchExpressions=1; ScopedResourceSelectorRequirement scopeName=1
operator=2 values=3. `scopeSelector` is a Go pointer (`*ScopeSelector`).
"""

from __future__ import annotations

from typing import Final

QUOTA_MESSAGES: Final[dict[str, dict[int, tuple[str, str]]]] = {
    "core.v1.ResourceQuota": {
        1: ("metadata", "meta.v1.ObjectMeta"),
        2: ("spec", "core.v1.ResourceQuotaSpec"),
        3: ("status", "core.v1.ResourceQuotaStatus"),
    },
    "core.v1.ResourceQuotaSpec": {
        1: ("hard", "map[string]Quantity"),
        2: ("scopes", "[]string"),
        3: ("scopeSelector", "*core.v1.ScopeSelector"),
    },
    "core.v1.ResourceQuotaStatus": {
        1: ("hard", "map[string]Quantity"),
        2: ("used", "map[string]Quantity"),
    },
    "core.v1.ScopeSelector": {
        1: ("matchExpressions", "[]core.v1.ScopedResourceSelectorRequirement"),
    },
    "core.v1.ScopedResourceSelectorRequirement": {
        1: ("scopeName", "string"),
        2: ("operator", "string"),
        3: ("values", "[]string"),
    },
}
# The request kind that picks the message (merge into `bodies.KINDS`).
QUOTA_KINDS: Final[dict[tuple[str, str], str]] = {("v1", "ResourceQuota"): "core.v1.ResourceQuota"}
