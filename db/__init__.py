"""Persistence: SQLAlchemy models, engine and session set-up, Alembic migrations.

Nothing here knows about Qt or about desk policy; `app/` decides, `db/` stores.
"""
