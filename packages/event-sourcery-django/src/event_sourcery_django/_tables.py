"""Names of the store's tables: the models declare them, the SQL uses them.

The SQL modules take the names from here rather than from the models, so importing the package
(which Django does while it populates the app registry) never imports the models too early.
"""

STREAMS = "event_sourcery_django_streams"
EVENTS = "event_sourcery_django_events"
SNAPSHOTS = "event_sourcery_django_snapshots"
OUTBOX = "event_sourcery_django_outbox"
CHECKPOINTS = "event_sourcery_django_checkpoints"
KEYS = "event_sourcery_django_keys"
