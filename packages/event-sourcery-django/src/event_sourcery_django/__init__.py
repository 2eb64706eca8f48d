"""Event Sourcery on Django."""
