"""Alembic migrations of the central monitor's database (run by `store.upgrade`)."""
