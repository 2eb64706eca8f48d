"""Event sourcing: aggregates rebuilt from their events, saved with optimistic concurrency."""

from event_sourcery._aggregate import Aggregate, Repository, WrappedAggregate

__all__ = ["Aggregate", "Repository", "WrappedAggregate"]
