"""The ``kurrentdb-emulator`` command."""


def main() -> None:
    """Run the emulator until SIGINT or SIGTERM."""
    raise SystemExit(1)
