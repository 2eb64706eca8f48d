"""``python -m event_sourcery_cli``: the same as the ``event-sourcery`` command."""

from event_sourcery_cli import main

main()
