"""Parsing InnoDB's list of transactions in flight (the MariaDB gap markers)."""

from __future__ import annotations

from event_sourcery.sql import (
    innodb_transactions,
)

_STATUS = """
=====================================
2026-12-06 23:40:00 0x7f INNODB MONITOR OUTPUT
=====================================
------------
TRANSACTIONS
------------
Trx id counter 3000
---TRANSACTION (0x7f00), not started
0 lock struct(s), heap size 1128, 0 row lock(s)
---TRANSACTION 2991, ACTIVE 12 sec
2 lock struct(s), heap size 1128, 1 row lock(s), undo log entries 2
MariaDB thread id 7, OS thread handle 140, query id 90 localhost root
---TRANSACTION 2995, ACTIVE 1 sec
1 lock struct(s), heap size 1128, 0 row lock(s), undo log entries 1
MariaDB thread id 9, OS thread handle 141, query id 95 localhost root
----------------------------
END OF INNODB MONITOR OUTPUT
============================
"""


def test_every_connections_read_write_transactions_count_but_the_excluded() -> None:
    # Whatever database a connection has selected: the status does not say, and a writer
    # may select another one while its transaction holds a position.
    assert innodb_transactions(_STATUS) == {2991, 2995}
    assert innodb_transactions(_STATUS, excluding={9, 0}) == {2991}


def test_a_status_cut_short_is_unknown() -> None:
    assert innodb_transactions(_STATUS.replace("END OF INNODB MONITOR OUTPUT", "")) is None
