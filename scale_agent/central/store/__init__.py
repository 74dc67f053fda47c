"""The central monitor's database: SQLite by default, PostgreSQL for a site or a fleet.

Split by concern, as the station splits `io/`: `base` (the engine, migrations, row shapes),
`writing` (the ingest's hot path and its SQL), `queries` (what the pages ask), `people`
(users, tokens, acknowledgements, the audit trail), `evidence` (the stations' records kept
and their chains walked) `desk` (what the case desk asks) and `cases` (customer service's
cases, audited). `Store` is all of them on one engine.
"""

from scale_agent.central.rows import ChainStatus, Incoming, Outcome, Search, station_key, utc
from scale_agent.central.store.base import CHAIN_HEAD, database_url
from scale_agent.central.store.cases import Cases
from scale_agent.central.store.desk import DeskQueries
from scale_agent.central.store.queries import Queries
from scale_agent.central.store.writing import Writing


class Store(Writing, Queries, Cases, DeskQueries):
    """The database of one central monitor (shared by its instances)."""


__all__ = [
    "CHAIN_HEAD",
    "ChainStatus",
    "Incoming",
    "Outcome",
    "Search",
    "Store",
    "database_url",
    "station_key",
    "utc",
]
