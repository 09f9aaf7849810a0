"""The verifying client's one error of its own: the server's answer did not verify.

`TamperedError` means: what the server sent is not backed by the history this client
trusts (a proof that does not verify, a dual proof that does not link, a state that moves
back or is not signed by the pinned key, row bytes that decode to something other than
what the server showed, a trusted state file that was damaged), or the server itself
reported that its data is corrupted. Its SQLSTATE is XX003, in the "internal error" class
next to PostgreSQL's XX001 data_corrupted and XX002 index_corrupted, which the store
uses for damage it finds in its own files. Nothing is saved when it is raised: the
trusted state stays where it was.

Every instance names the check that failed in `check` (a short stable word, listed in
docs/verify.md section 9), so scripts and the auditor can report and count by kind.
"""

from __future__ import annotations

from ..kv.errors import ImmuSQLError

__all__ = ["TamperedError", "ClientError", "CHECKS"]

# check -> what it means (the `check` attribute of a TamperedError)
CHECKS = {
    "proof": "a proof did not verify (digest, inclusion path, header or alh)",
    "dual-proof": "the server's history does not extend the trusted state (fork or rewrite)",
    "rollback": "the server's history is shorter than the trusted state (rollback)",
    "signature": "a state is not signed by the pinned server key",
    "database": "a proof names another database than the trusted state",
    "schema": "the schema proof is not the definition of the asked table",
    "row-key": "the proven row key is not the asked row",
    "row-value": "the proven row value does not decode, or differs from what was shown",
    "entry": "a proven KV entry or transaction is not what was asked or shown",
    "malformed": "the server's answer is not a well-formed proof",
    "state-file": "the local trusted state file is damaged or belongs to another server",
    "server-corruption": "the server reported that its own data is corrupted (XX001/XX002)",
}


class TamperedError(ImmuSQLError, sqlstate="XX003"):
    """The server's answer failed verification; `check` says which check (see CHECKS)."""

    def __init__(self, check: str, message: str, *, tx_id: int | None = None):
        self.check = check
        self.tx_id = tx_id
        self.message = message
        super().__init__(f"{check}: {message}")


class ClientError(ImmuSQLError, sqlstate="22023"):
    """A misuse of the client (bad argument, unknown table shape); not a verdict."""
