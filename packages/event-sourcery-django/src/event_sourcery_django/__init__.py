"""Event Sourcery on Django: streams, subscriptions, outbox and projections in your database.

```
INSTALLED_APPS = [..., "event_sourcery_django"]   # settings.py; then manage.py migrate
backend = DjangoBackend()                          # once; import it where you need it
backend.event_store.append(event, stream_id=stream_id)
await AsyncDjangoBackend().event_store.append(event, stream_id=stream_id)  # async views
```
"""

from event_sourcery_django._async_backend import (
    AsyncDjangoBackend,
    AsyncDjangoEventStore,
    AsyncDjangoOutbox,
)
from event_sourcery_django._backend import DjangoBackend, DjangoEventStore
from event_sourcery_django._storage import DjangoStorageStrategy

__all__ = [
    "AsyncDjangoBackend",
    "AsyncDjangoEventStore",
    "AsyncDjangoOutbox",
    "DjangoBackend",
    "DjangoEventStore",
    "DjangoStorageStrategy",
]
