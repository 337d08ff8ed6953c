"""Alembic migrations of the store's schema; `edgekube.store.migrating` applies them at start."""
