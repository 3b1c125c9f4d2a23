"""Alembic environment for the station's local SQLite database.

Run by `app.persistence.migrations.upgrade()`, which passes an open connection (inside one
transaction, foreign keys off) as `config.attributes["connection"]`.
"""

from alembic import context

from app.persistence.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                  transactional_ddl=True)
context.run_migrations()
