"""Field errors and the checks shared by every kind: names, labels, annotations, metadata.

Validators return a list of `Cause`s (empty when valid) rather than raising, so one request
reports every problem at once, as the Kubernetes API does (422 with `details.causes`).
Messages follow the Kubernetes wording so people can search for them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import orjson

from edgekube.errors import Cause
from edgekube.resources.objects import Obj

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
LABEL_VALUE_MAX = 63
ANNOTATIONS_TOTAL_MAX = 256 * 1024

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_C_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def required(field: str) -> Cause:
    return Cause("FieldValueRequired", "Required value", field)


def invalid_value(field: str, value: Any, detail: str) -> Cause:
    return Cause("FieldValueInvalid", f"Invalid value: {_show(value)}: {detail}", field)


def unsupported_value(field: str, value: Any, allowed: Iterable[str]) -> Cause:
    choices = ", ".join(f'"{a}"' for a in allowed)
    return Cause("FieldValueNotSupported", f"Unsupported value: {_show(value)}: supported values: {choices}", field)


def forbidden(field: str, detail: str) -> Cause:
    return Cause("FieldValueForbidden", f"Forbidden: {detail}", field)


def duplicate(field: str, value: Any) -> Cause:
    return Cause("FieldValueDuplicate", f"Duplicate value: {_show(value)}", field)


def too_long(field: str, max_len: int) -> Cause:
    return Cause("FieldValueTooLong", f"Too long: may not be more than {max_len} bytes", field)


def immutable(field: str) -> Cause:
    return Cause("FieldValueInvalid", "field is immutable", field)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return repr(value)


def is_dns1123_label(value: str) -> list[str]:
    """Problems with `value` as an RFC 1123 label (namespace names, container names)."""
    errs = []
    if len(value) > DNS1123_LABEL_MAX:
        errs.append(f"must be no more than {DNS1123_LABEL_MAX} characters")
    if not _DNS1123_LABEL.match(value):
        errs.append(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
            "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc')"
        )
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    """Problems with `value` as an RFC 1123 subdomain (most object names)."""
    errs = []
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        errs.append(f"must be no more than {DNS1123_SUBDOMAIN_MAX} characters")
    if not _DNS1123_SUBDOMAIN.match(value):
        errs.append(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
            "'-' or '.', and must start and end with an alphanumeric character "
            "(e.g. 'example.com')"
        )
    return errs


def is_dns1035_label(value: str) -> list[str]:
    """Problems with `value` as an RFC 1035 label (service names: they become DNS names)."""
    errs = []
    if len(value) > DNS1123_LABEL_MAX:
        errs.append(f"must be no more than {DNS1123_LABEL_MAX} characters")
    if not re.match(r"^[a-z]([-a-z0-9]*[a-z0-9])?$", value):
        errs.append(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
            "start with an alphabetic character, and end with an alphanumeric character "
            "(e.g. 'my-name',  or 'abc-123')"
        )
    return errs


def is_qualified_name(value: str) -> list[str]:
    """Problems with a label or annotation key: optional DNS prefix, '/', and a name."""
    prefix, _, name = value.rpartition("/")
    errs = []
    if "/" in value and not prefix:
        errs.append("prefix part must be non-empty")
    elif prefix:
        errs.extend(f"prefix part {e}" for e in is_dns1123_subdomain(prefix))
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    elif not _QUALIFIED_NAME.match(name):
        errs.append(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
            "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc')"
        )
    return errs


def is_label_value(value: str) -> list[str]:
    errs = []
    if len(value) > LABEL_VALUE_MAX:
        errs.append(f"must be no more than {LABEL_VALUE_MAX} characters")
    if not _LABEL_VALUE.match(value):
        errs.append(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', "
            "'_' or '.', and must start and end with an alphanumeric character "
            "(e.g. 'MyValue',  or 'my_value',  or '12345')"
        )
    return errs


def is_c_identifier(value: str) -> bool:
    return bool(_C_IDENTIFIER.match(value))


def validate_labels(labels: Any, field: str) -> list[Cause]:
    if labels is None:
        return []
    if not isinstance(labels, dict):
        return [invalid_value(field, labels, "must be a map of string keys to string values")]
    causes: list[Cause] = []
    for key, value in labels.items():
        causes += [invalid_value(field, key, e) for e in is_qualified_name(key)]
        if not isinstance(value, str):
            causes.append(invalid_value(f"{field}", value, "label values must be strings"))
            continue
        causes += [invalid_value(f"{field}", value, e) for e in is_label_value(value)]
    return causes


def validate_annotations(annotations: Any, field: str) -> list[Cause]:
    if annotations is None:
        return []
    if not isinstance(annotations, dict):
        return [invalid_value(field, annotations, "must be a map of string keys to string values")]
    causes: list[Cause] = []
    total = 0
    for key, value in annotations.items():
        causes += [invalid_value(field, key, e) for e in is_qualified_name(key.lower())]
        if not isinstance(value, str):
            causes.append(invalid_value(field, value, "annotation values must be strings"))
            continue
        total += len(key) + len(value.encode())
    if total > ANNOTATIONS_TOTAL_MAX:
        causes.append(too_long(field, ANNOTATIONS_TOTAL_MAX))
    return causes


NameCheck = Any  # Callable[[str], list[str]]; kept loose so kinds can pass any of the is_* checks


def validate_object_meta(
    obj: Obj,
    *,
    namespaced: bool,
    name_check: NameCheck = is_dns1123_subdomain,
) -> list[Cause]:
    """The checks every kind shares: name, namespace presence, labels, annotations."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return [required("metadata")]
    causes: list[Cause] = []
    name = meta.get("name")
    if not name:
        if not meta.get("generateName"):
            causes.append(Cause("FieldValueRequired", "name or generateName is required", "metadata.name"))
    elif not isinstance(name, str):
        causes.append(invalid_value("metadata.name", name, "must be a string"))
    else:
        causes += [invalid_value("metadata.name", name, e) for e in name_check(name)]
    namespace = meta.get("namespace")
    if namespaced and not namespace:
        causes.append(required("metadata.namespace"))
    if not namespaced and namespace:
        causes.append(forbidden("metadata.namespace", "not allowed on this type"))
    causes += validate_labels(meta.get("labels"), "metadata.labels")
    causes += validate_annotations(meta.get("annotations"), "metadata.annotations")
    finalizers = meta.get("finalizers")
    if finalizers is not None:
        if not isinstance(finalizers, list):
            causes.append(invalid_value("metadata.finalizers", finalizers, "must be a list of strings"))
        else:
            for i, fin in enumerate(finalizers):
                if not isinstance(fin, str) or is_qualified_name(fin):
                    causes.append(invalid_value(f"metadata.finalizers[{i}]", fin, "must be a qualified name"))
    return causes


def validate_immutable_meta(new: Obj, old: Obj) -> list[Cause]:
    """Metadata that no update may change."""
    causes: list[Cause] = []
    nm, om = new.get("metadata", {}), old.get("metadata", {})
    for key in ("name", "namespace", "uid", "creationTimestamp"):
        if key in nm and nm.get(key) != om.get(key):
            causes.append(immutable(f"metadata.{key}"))
    return causes
