"""``python -m kurrentdb_emulator``: the same as the ``kurrentdb-emulator`` command."""

from kurrentdb_emulator._cli import main

raise SystemExit(main())
