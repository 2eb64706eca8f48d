"""Event Sourcery on SQLAlchemy 2: SQLite, PostgreSQL and MariaDB.

```
configure_models(Base)             # once, where your models live; then create_all / alembic
backend = SQLAlchemyBackend(session)
backend.event_store.append(event, stream_id=stream_id)
session.commit()                   # the backend never commits or rolls back
```
"""

from event_sourcery_sqlalchemy._async_backend import AsyncSQLAlchemyBackend
from event_sourcery_sqlalchemy._backend import SQLAlchemyBackend
from event_sourcery_sqlalchemy._models import (
    DEFAULT_TABLE_PREFIX,
    SQLAlchemyModels,
    configure_models,
)
from event_sourcery_sqlalchemy._storage import SQLAlchemyStorageStrategy

__all__ = [
    "DEFAULT_TABLE_PREFIX",
    "AsyncSQLAlchemyBackend",
    "SQLAlchemyBackend",
    "SQLAlchemyModels",
    "SQLAlchemyStorageStrategy",
    "configure_models",
]
