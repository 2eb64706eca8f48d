"""Event sourcing: aggregates rebuilt from their events, saved with optimistic concurrency."""

from event_sourcery._aggregate import Aggregate, Repository, WrappedAggregate
from event_sourcery._async_aggregate import AsyncRepository

__all__ = ["Aggregate", "AsyncRepository", "Repository", "WrappedAggregate"]
