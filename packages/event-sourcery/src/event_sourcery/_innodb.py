"""InnoDB's list of read-write transactions in flight, the gap markers on MariaDB/MySQL.

``SHOW ENGINE INNODB STATUS`` lists transactions as they are at the moment of the query
(``information_schema.INNODB_TRX`` is served from a cache up to 100 ms old, too stale for the
gap rule of `event_sourcery._gaps`). Parsing its text is dialect knowledge that every SQL
backend shares, so it lives here once.
"""

from __future__ import annotations

import re

_TRANSACTION = re.compile(r"^---TRANSACTION (\d+), (?!not started)", re.MULTILINE)
_THREAD = re.compile(r"^(?:MariaDB|MySQL) thread id (\d+)", re.MULTILINE)
_END = "END OF INNODB MONITOR OUTPUT"


def innodb_transactions(status: str) -> dict[int, int | None] | None:
    """Read-write transactions in flight, by id, with their connection (thread) id.

    From the TRANSACTIONS section of ``SHOW ENGINE INNODB STATUS``: read-write transactions
    show their numeric id (read-only ones a pointer in parentheses). None if the output was
    cut short (InnoDB truncates it at 1 MB), so the list may be incomplete.
    """
    if _END not in status:
        return None
    found: dict[int, int | None] = {}
    for block in status.split("---TRANSACTION ")[1:]:
        match = _TRANSACTION.match("---TRANSACTION " + block)
        if match is None:
            continue
        thread = _THREAD.search(block)
        found[int(match.group(1))] = int(thread.group(1)) if thread else None
    return found
