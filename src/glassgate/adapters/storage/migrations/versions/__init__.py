"""Alembic revisions, one file per revision, named ``vNNNN_<what>.py``."""
