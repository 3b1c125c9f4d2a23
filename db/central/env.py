"""Alembic environment for the central PostgreSQL database.

Run by `app.sync.central.upgrade_central(url)`, which passes an open SQLAlchemy connection as
`config.attributes["connection"]`; the whole upgrade is one PostgreSQL transaction.
"""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, transactional_ddl=True,
                  version_table="alembic_version_central")
with context.begin_transaction():
    context.run_migrations()
