"""Storage: SQLModel tables, engines and migrations, data-access functions, report views.

- :mod:`storage.models`: every table (one file).
- :mod:`storage.db`: ``get_engine(url)`` (SQLite by default, PostgreSQL via ``DATABASE_URL``),
  ``migrate(engine)`` (Alembic, ``storage/migrations``), ``write_transaction(engine)``.
- :mod:`storage.repository`: the only code that writes: ``upsert_site``, ``start_run``,
  ``complete_run``, ``fail_run``, ...
- :mod:`storage.views`: typed handles on the SQL views for reports.
- :mod:`storage.types`: exact decimals and aware UTC timestamps on both backends.
"""
