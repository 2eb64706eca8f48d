"""Event Sourcery testing."""
