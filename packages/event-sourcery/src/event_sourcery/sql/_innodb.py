"""InnoDB's list of read-write transactions in flight, the gap markers on MariaDB/MySQL.

``SHOW ENGINE INNODB STATUS`` lists transactions as they are at the moment of the query
(``information_schema.INNODB_TRX`` is served from a cache up to 100 ms old, too stale for the
gap rule of `event_sourcery.sql._gaps`). Parsing its text is dialect knowledge that every SQL
backend shares, so it lives here once.
"""

from __future__ import annotations

import re
from collections.abc import Collection

_TRANSACTION = re.compile(r"^---TRANSACTION (\d+), (?!not started)", re.MULTILINE)
_THREAD = re.compile(r"^(?:MariaDB|MySQL) thread id (\d+)", re.MULTILINE)
_END = "END OF INNODB MONITOR OUTPUT"


def innodb_transactions(status: str, *, excluding: Collection[int] = ()) -> frozenset[int] | None:
    """Read-write transactions in flight, by id, but those of the connections `excluding`.

    From the TRANSACTIONS section of ``SHOW ENGINE INNODB STATUS``: read-write transactions
    show their numeric id (read-only ones a pointer in parentheses). None if the output was
    cut short (InnoDB truncates it at 1 MB), so the list may be incomplete.

    Every connection of the server counts, whatever database it has selected. A connection
    that appended in its transaction and then ran ``USE other_db`` still holds its position
    until it commits; leaving out the connections that had another database selected passed
    that position as a gap for good, and its event was never delivered. Nothing the server
    shows tells which tables a transaction wrote (only its locks would, with the
    ``innodb_status_output_locks`` monitor that needs SUPER), so the trade-off is this: a gap
    may wait on a read-write transaction of another database of the same server. Only on
    those in flight when the gap was seen (a transaction begun later never holds a subscription
    back) and only while a gap is open, which takes a rollback or a commit out of position
    order. A store that shares its server with long-running writers elsewhere pays that wait;
    one that loses an event pays more.
    """
    if _END not in status:
        return None
    found: set[int] = set()
    for block in status.split("---TRANSACTION ")[1:]:
        match = _TRANSACTION.match("---TRANSACTION " + block)
        if match is None:
            continue
        thread = _THREAD.search(block)
        if thread is None or int(thread.group(1)) not in excluding:
            found.add(int(match.group(1)))
    return frozenset(found)
