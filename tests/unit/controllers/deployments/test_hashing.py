"""The pod-template-hash: stable across runs and processes, blind to key order and empty fields."""

from __future__ import annotations

import copy
import os
import subprocess
import sys

import pytest

from edgekube.controllers.deployments.hashing import (
    ALPHABET,
    HASH_LABEL,
    HASH_LENGTH,
    encode,
    equal_ignoring_hash,
    fnv1a_32,
    template_hash,
)
from edgekube.resources.objects import Obj

TEMPLATE: Obj = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]},
}


def test_pinned_values() -> None:
    """These values are part of the API: ReplicaSet names must not change between releases."""
    assert template_hash(TEMPLATE) == "gck2l9z"
    assert template_hash(TEMPLATE, 1) == "kbkzv2d"
    assert template_hash(TEMPLATE, 2) == "j64bqch"


@pytest.mark.parametrize(("data", "value"), [(b"", 0x811C9DC5), (b"a", 0xE40C292C), (b"foobar", 0xBF9CF968)])
def test_fnv1a_32_reference_vectors(data: bytes, value: int) -> None:
    """The published FNV-1a test vectors."""
    assert fnv1a_32(data) == value


def test_same_in_another_process() -> None:
    """Independent of Python's per-process hash seed."""
    code = f"from edgekube.controllers.deployments.hashing import template_hash;print(template_hash({TEMPLATE!r}))"
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == template_hash(TEMPLATE)


def test_blind_to_key_order_and_empty_members() -> None:
    """Reordered keys, nulls and empty maps or lists mean the same template."""
    reordered: Obj = {
        "spec": {"containers": [{"image": "nginx:1.25", "name": "web", "args": []}], "volumes": None},
        "metadata": {"annotations": {}, "labels": {"app": "web"}, "creationTimestamp": None},
    }
    assert template_hash(reordered) == template_hash(TEMPLATE)


def test_changes_with_the_template() -> None:
    changed = copy.deepcopy(TEMPLATE)
    changed["spec"]["containers"][0]["image"] = "nginx:1.26"
    assert template_hash(changed) != template_hash(TEMPLATE)


@pytest.mark.parametrize("value", [0, 1, 26, 27, 2**32 - 1])
def test_encoding_is_fixed_width_in_the_name_alphabet(value: int) -> None:
    encoded = encode(value)
    assert len(encoded) == HASH_LENGTH and set(encoded) <= set(ALPHABET)


def test_equality_ignores_the_hash_label() -> None:
    """A ReplicaSet's template (with its hash label) equals the Deployment template it came from."""
    with_label = copy.deepcopy(TEMPLATE)
    with_label["metadata"]["labels"][HASH_LABEL] = "anything"
    assert equal_ignoring_hash(with_label, TEMPLATE)
    with_label["metadata"]["labels"]["tier"] = "front"
    assert not equal_ignoring_hash(with_label, TEMPLATE)
