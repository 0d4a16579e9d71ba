"""Alembic migrations of the backend schema (run by ``cer-backend migrate`` and ``serve``)."""
