"""Persistence of users, analysis tasks and their text-only results (SQLAlchemy 2, Alembic).

Stores text and numbers only: season types, hex colours, advice, timestamps. No column anywhere
holds image data, and `tests/db/test_schema.py` fails if one ever appears. This package never imports
`serve_app` or `pipeline`: the service maps its own objects onto `HistoryRecord`.

Modules: `engine` (engines and sessions from a URL), `models` (the tables), `tasks` (users and the
task lifecycle), `history` (stored results, pagination, statistics), `migrate` (Alembic upgrade).
"""
