"""The real schema, built once per test session by the child process into a temp dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgekube.resources.openapi.documents import OpenAPIDocuments
from edgekube.resources.openapi.loading import load_schema
from edgekube.resources.registry import Registry, default_registry
from edgekube.resources.schema import SchemaSet


@pytest.fixture(scope="session")
def cache_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("openapi") / "schema.json"
    load_schema(path)
    return path


@pytest.fixture(scope="session")
def schema(cache_path: Path) -> SchemaSet:
    return load_schema(cache_path)


@pytest.fixture(scope="session")
def described(cache_path: Path) -> SchemaSet:
    return load_schema(cache_path, descriptions=True)


@pytest.fixture(scope="session")
def registry() -> Registry:
    return default_registry()


@pytest.fixture(scope="session")
def documents(cache_path: Path, registry: Registry) -> OpenAPIDocuments:
    return OpenAPIDocuments.load(cache_path, registry)
