"""The benchmark harness of Event Sourcery (a workspace tool, never published)."""
