"""Options of the service's verbs, as parsed from query strings and DeleteOptions bodies."""

from __future__ import annotations

from dataclasses import dataclass, field

from edgekube.errors import BadRequest

FIELD_VALIDATION = ("Strict", "Warn", "Ignore")
PROPAGATION = ("Orphan", "Background", "Foreground")


@dataclass
class WriteOptions:
    dry_run: bool = False
    # Kubernetes' default for requests that do not say is Warn (kubectl asks for Strict).
    field_validation: str = "Warn"
    field_manager: str = ""
    # Filled in by the service: warnings for the `Warning` response header.
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.field_validation not in FIELD_VALIDATION:
            raise BadRequest(
                f"fieldValidation must be one of {', '.join(FIELD_VALIDATION)}, not {self.field_validation!r}"
            )


@dataclass
class ListOptions:
    label_selector: str = ""
    field_selector: str = ""
    limit: int = 0
    continue_token: str = ""
    resource_version: str = ""
    resource_version_match: str = ""


@dataclass
class WatchOptions:
    label_selector: str = ""
    field_selector: str = ""
    resource_version: str = ""
    allow_bookmarks: bool = False
    send_initial_events: bool | None = None


@dataclass
class DeleteOptions:
    grace_period_seconds: int | None = None
    propagation_policy: str | None = None
    precondition_uid: str | None = None
    precondition_resource_version: str | None = None
    dry_run: bool = False

    def __post_init__(self) -> None:
        if self.propagation_policy is not None and self.propagation_policy not in PROPAGATION:
            raise BadRequest(
                f"propagationPolicy must be one of {', '.join(PROPAGATION)}, not {self.propagation_policy!r}"
            )
        if self.grace_period_seconds is not None and self.grace_period_seconds < 0:
            raise BadRequest("gracePeriodSeconds must not be negative")
