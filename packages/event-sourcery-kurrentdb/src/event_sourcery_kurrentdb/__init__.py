"""KurrentDB (EventStoreDB) backend for Event Sourcery."""
