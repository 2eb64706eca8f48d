"""KurrentDB (EventStoreDB) backend for Event Sourcery.

```python
from kurrentdbclient import KurrentDBClient
from event_sourcery_kurrentdb import KurrentDBBackend

backend = KurrentDBBackend(KurrentDBClient(uri="kurrentdb://localhost:2113?Tls=false"))
```
"""

from event_sourcery_kurrentdb._async_backend import AsyncKurrentDBBackend
from event_sourcery_kurrentdb._backend import KurrentDBBackend
from event_sourcery_kurrentdb._checkpoints import KurrentDBCheckpointStrategy
from event_sourcery_kurrentdb._errors import RetryPolicy
from event_sourcery_kurrentdb._keys import KurrentDBKeyStorage
from event_sourcery_kurrentdb._outbox import KurrentDBOutboxStrategy
from event_sourcery_kurrentdb._storage import KurrentDBStorageStrategy
from event_sourcery_kurrentdb._subscription import KurrentDBSubscriptionStrategy

__all__ = [
    "AsyncKurrentDBBackend",
    "KurrentDBBackend",
    "KurrentDBCheckpointStrategy",
    "KurrentDBKeyStorage",
    "KurrentDBOutboxStrategy",
    "KurrentDBStorageStrategy",
    "KurrentDBSubscriptionStrategy",
    "RetryPolicy",
]
