"""immusql's one error hierarchy, each class carrying its PostgreSQL SQLSTATE.

The root (`ImmuSQLError`) and the storage errors are defined in `immusql.kv.errors` (the
lowest layer, which imports nothing of ours) and re-exported here. The SQL layers add the
PEP 249 (DB-API 2.0) classes and one class per SQLSTATE they raise, psycopg-style:
`lookup("23505")` gives `UniqueViolation`. At the boundary between the store and SQL,
store errors are converted (`from_store_error`) so a DB-API user catches only PEP 249
classes, while `.sqlstate` keeps the precise code.
"""

from __future__ import annotations

import logging

from .kv.errors import (  # noqa: F401 - re-exported: the one error hierarchy
    ConflictError,
    CorruptionError,
    ImmuSQLError,
    IndexCorruptedError,
    InvalidArgumentError,
    KeyNotFoundError,
    LimitExceededError,
    ProofError,
    StorageError,
    StoreClosedError,
    StoreLockedError,
    TxNotFoundError,
    lookup,
    register,
)


class Warning(Exception):  # noqa: A001 - the name PEP 249 requires
    """PEP 249 Warning (not an error: never raised by immusql)."""


class Error(ImmuSQLError):
    """PEP 249 Error: the base of every exception a connection raises."""

    def __init__(self, message: str = "", *, detail: str | None = None,
                 hint: str | None = None, position: int | None = None):
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.hint = hint
        self.position = position  # 1-based character offset into the statement (PG "P")

    # PostgreSQL's CONTEXT field (the wire's "W"), e.g. COPY's `COPY t, line 3: "..."`;
    # a class default so every error has it, set on an instance where a context is known
    context: str | None = None
    # PostgreSQL's object fields (the wire's "s", "t", "c", "d", "n"): which schema, table,
    # column, data type or constraint an integrity error is about (psycopg's diag)
    schema_name: str | None = None
    table_name: str | None = None
    column_name: str | None = None
    datatype_name: str | None = None
    constraint_name: str | None = None

    @property
    def pgcode(self) -> str:  # psycopg2's name for it
        return self.sqlstate


class InterfaceError(Error, sqlstate="08000"):
    """Misuse of the DB-API interface itself (closed cursor, bad parameters)."""


class DatabaseError(Error):
    pass


class DataError(DatabaseError, sqlstate="22000"):
    pass


class OperationalError(DatabaseError, sqlstate="58000"):
    pass


class IntegrityError(DatabaseError, sqlstate="23000"):
    pass


class InternalError(DatabaseError, sqlstate="XX000"):
    pass


class ProgrammingError(DatabaseError, sqlstate="42000"):
    pass


class NotSupportedError(DatabaseError, sqlstate="0A000"):
    pass


# -- class 22: data exceptions -------------------------------------------------------------
class StringDataRightTruncation(DataError, sqlstate="22001"):
    pass


class NumericValueOutOfRange(DataError, sqlstate="22003"):
    pass


class InvalidDatetimeFormat(DataError, sqlstate="22007"):
    pass


class DatetimeFieldOverflow(DataError, sqlstate="22008"):
    pass


class DivisionByZero(DataError, sqlstate="22012"):
    pass


class InvalidParameterValue(DataError, sqlstate="22023"):
    pass


class InvalidRegularExpression(DataError, sqlstate="2201B"):
    pass


class InvalidTextRepresentation(DataError, sqlstate="22P02"):
    pass


class InvalidBinaryRepresentation(DataError, sqlstate="22P03"):
    pass


class InvalidEscapeSequence(DataError, sqlstate="22025"):
    pass


class InvalidUseOfEscapeCharacter(DataError, sqlstate="2200C"):
    pass


class ArraySubscriptError(DataError, sqlstate="2202E"):
    pass


class CardinalityViolation(DataError, sqlstate="21000"):
    """A scalar subquery returned more than one row; ON CONFLICT touched a row twice."""


class InvalidJsonText(DataError, sqlstate="22P02"):
    pass


class NullValueNotAllowed(DataError, sqlstate="22004"):
    pass


# -- class 23: integrity constraint violations ---------------------------------------------
class RestrictViolation(IntegrityError, sqlstate="23001"):
    pass


class NotNullViolation(IntegrityError, sqlstate="23502"):
    pass


class ForeignKeyViolation(IntegrityError, sqlstate="23503"):
    pass


class UniqueViolation(IntegrityError, sqlstate="23505"):
    pass


class CheckViolation(IntegrityError, sqlstate="23514"):
    pass


class WithCheckOptionViolation(ProgrammingError, sqlstate="44000"):
    """A row written through a view WITH CHECK OPTION that the view would not show."""


# -- class 25 / 40: transactions -----------------------------------------------------------
class ActiveSqlTransaction(OperationalError, sqlstate="25001"):
    pass


class NoActiveSqlTransaction(OperationalError, sqlstate="25P01"):
    pass


class InFailedSqlTransaction(OperationalError, sqlstate="25P02"):
    pass


class ReadOnlySqlTransaction(OperationalError, sqlstate="25006"):
    pass


class SerializationFailure(OperationalError, sqlstate="40001"):
    pass


class InvalidSavepointSpecification(OperationalError, sqlstate="3B001"):
    pass


# -- class 42: syntax errors and access rule violations ------------------------------------
class SyntaxError(ProgrammingError, sqlstate="42601"):  # noqa: A001 - PostgreSQL's name
    pass


class InsufficientPrivilege(ProgrammingError, sqlstate="42501"):
    pass


class UndefinedColumn(ProgrammingError, sqlstate="42703"):
    pass


class UndefinedTable(ProgrammingError, sqlstate="42P01"):
    pass


class UndefinedFunction(ProgrammingError, sqlstate="42883"):
    pass


class UndefinedObject(ProgrammingError, sqlstate="42704"):
    pass


class UndefinedParameter(ProgrammingError, sqlstate="42P02"):
    pass


class DuplicateColumn(ProgrammingError, sqlstate="42701"):
    pass


class DuplicateTable(ProgrammingError, sqlstate="42P07"):
    pass


class DuplicateObject(ProgrammingError, sqlstate="42710"):
    pass


class DuplicateSchema(ProgrammingError, sqlstate="42P06"):
    pass


class InvalidSchemaName(ProgrammingError, sqlstate="3F000"):
    pass


class AmbiguousColumn(ProgrammingError, sqlstate="42702"):
    pass


class AmbiguousFunction(ProgrammingError, sqlstate="42725"):
    pass


class DatatypeMismatch(ProgrammingError, sqlstate="42804"):
    pass


class IndeterminateDatatype(ProgrammingError, sqlstate="42P18"):
    pass


class CannotCoerce(ProgrammingError, sqlstate="42846"):
    pass


class GroupingError(ProgrammingError, sqlstate="42803"):
    pass


class WindowingError(ProgrammingError, sqlstate="42P20"):
    pass


class InvalidColumnReference(ProgrammingError, sqlstate="42P10"):
    pass


class InvalidTableDefinition(ProgrammingError, sqlstate="42P16"):
    pass


class InvalidObjectDefinition(ProgrammingError, sqlstate="42P17"):
    pass


class InvalidRecursion(ProgrammingError, sqlstate="42P19"):
    pass


class WrongObjectType(ProgrammingError, sqlstate="42809"):
    pass


class DependentObjectsStillExist(ProgrammingError, sqlstate="2BP01"):
    pass


class InvalidCursorName(ProgrammingError, sqlstate="34000"):
    pass


class InvalidSqlStatementName(ProgrammingError, sqlstate="26000"):
    pass


class StatementTooComplex(ProgrammingError, sqlstate="54001"):
    pass


class ProgramLimitExceeded(OperationalError, sqlstate="54000"):
    pass


class InvalidForeignKey(ProgrammingError, sqlstate="42830"):
    pass


class NameTooLong(ProgrammingError, sqlstate="42622"):
    """An identifier of NAMEDATALEN (64) bytes or more where PostgreSQL refuses to cut it."""


class GeneratedAlways(ProgrammingError, sqlstate="428C9"):
    pass


class InvalidRowCountInLimitClause(DataError, sqlstate="2201W"):
    pass


class InvalidRowCountInResultOffsetClause(DataError, sqlstate="2201X"):
    pass


class SequenceGeneratorLimitExceeded(DataError, sqlstate="2200H"):
    pass


class ObjectNotInPrerequisiteState(OperationalError, sqlstate="55000"):
    pass


class CantChangeRuntimeParam(OperationalError, sqlstate="55P02"):
    pass


class FeatureNotSupported(NotSupportedError, sqlstate="0A000"):
    pass


class QueryCanceled(OperationalError, sqlstate="57014"):
    pass


class CharacterNotInRepertoire(DataError, sqlstate="22021"):
    """Bytes that are not valid UTF-8 (the only encoding immusql speaks)."""


class BadCopyFileFormat(DataError, sqlstate="22P04"):
    """COPY data that does not follow its format (text, CSV or binary)."""


# -- connection-level errors of the wire server ---------------------------------------


class ProtocolViolation(OperationalError, sqlstate="08P01"):
    """The peer broke the wire protocol; the server closes the connection after saying so."""


class AdminShutdown(OperationalError, sqlstate="57P01"):
    pass


class TooManyConnections(OperationalError, sqlstate="53300"):
    pass


class DuplicatePreparedStatement(ProgrammingError, sqlstate="42P05"):
    pass


class DuplicateCursor(ProgrammingError, sqlstate="42P03"):
    pass


# -- roles, databases and authentication (pgwire.auth, pgwire.cluster) -------------------
class InvalidAuthorizationSpecification(OperationalError, sqlstate="28000"):
    pass


class InvalidPassword(OperationalError, sqlstate="28P01"):
    pass


class InvalidCatalogName(ProgrammingError, sqlstate="3D000"):
    """A database that does not exist."""


class DuplicateDatabase(ProgrammingError, sqlstate="42P04"):
    pass


class ReservedName(ProgrammingError, sqlstate="42939"):
    pass


class InvalidGrantOperation(ProgrammingError, sqlstate="0LP01"):
    pass


class ObjectInUse(OperationalError, sqlstate="55006"):
    pass


class DataCorrupted(InternalError, sqlstate="XX001"):
    pass


class IndexCorrupted(InternalError, sqlstate="XX002"):
    pass


_STORE_TO_SQL = (
    (ConflictError, SerializationFailure),
    (ProofError, DataCorrupted),
    (IndexCorruptedError, IndexCorrupted),
    (CorruptionError, DataCorrupted),
    (LimitExceededError, ProgramLimitExceeded),
    (StoreClosedError, OperationalError),
    (StoreLockedError, OperationalError),
    (TxNotFoundError, InvalidParameterValue),
    (InvalidArgumentError, InvalidParameterValue),
    (StorageError, OperationalError),
)


def _register_sql_classes() -> None:
    """The first (most general) PEP 249 class defined for each SQLSTATE wins `lookup`."""
    seen = set()
    for value in list(globals().values()):
        if isinstance(value, type) and issubclass(value, Error) and value.sqlstate not in seen:
            seen.add(value.sqlstate)
            register(value)


_register_sql_classes()


def as_sql_error(exc: Exception) -> Error:
    """The error a client gets for anything raised while a statement ran: ours as they
    are, the store's converted, runaway recursion as 54001, and any other exception (a
    bug of ours, logged with its traceback) as XX000, so there is always a SQLSTATE."""
    if isinstance(exc, Error):
        return exc
    if isinstance(exc, ImmuSQLError):
        return from_store_error(exc)
    if isinstance(exc, RecursionError):
        return StatementTooComplex("statement is too deeply nested")
    logging.getLogger("immusql.sql").error("internal error", exc_info=exc)
    return InternalError(f"internal error: {type(exc).__name__}: {exc}")


def from_store_error(e: ImmuSQLError) -> Error:
    """The DB-API error for a store error, keeping the store's precise SQLSTATE."""
    if isinstance(e, Error):
        return e
    for store_cls, sql_cls in _STORE_TO_SQL:
        if isinstance(e, store_cls):
            err = sql_cls(str(e))
            err.sqlstate = e.sqlstate
            return err
    err = InternalError(str(e))
    err.sqlstate = e.sqlstate
    return err


__all__ = [n for n, v in list(globals().items())
           if isinstance(v, type) and issubclass(v, BaseException)] + ["lookup",
                                                                      "from_store_error",
                                                                      "as_sql_error"]
