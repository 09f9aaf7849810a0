"""immusql.client: a verifying client for an immusql server (docs/verify.md section 9).

It speaks SQL through psycopg, checks every proof with the store's pure verification
functions (`immusql.kv.proofs`), keeps the trusted state per server and database in a
locked local file, and raises `TamperedError` when the server's answer does not verify.
Layering: imports `immusql.kv`, `immusql.errors` and `immusql.signing`, never the SQL
engine or the wire server.
"""

from .connection import (
    Client,
    VerifiedEntry,
    VerifiedRow,
    VerifiedTx,
    connect,
    load_public_key,
    state_from_json,
)
from .errors import CHECKS, ClientError, TamperedError
from .state_store import StateStore, default_state_dir

__all__ = ["connect", "Client", "VerifiedRow", "VerifiedTx", "VerifiedEntry",
           "TamperedError", "ClientError", "CHECKS", "StateStore", "default_state_dir",
           "load_public_key", "state_from_json"]
