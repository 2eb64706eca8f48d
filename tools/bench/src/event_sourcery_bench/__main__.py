"""`python -m event_sourcery_bench`."""

from event_sourcery_bench._cli import main

raise SystemExit(main())
