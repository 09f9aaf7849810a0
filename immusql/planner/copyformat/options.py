"""COPY's options, validated as PostgreSQL's ProcessCopyOptions does: in its order, with
its messages and SQLSTATEs, defaults filled in per format. Kept apart from the parsers
because both directions and all three formats start from the same `CopyOptions`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ... import errors

_UTF8_NAMES = frozenset({"utf8", "unicode"})
# PostgreSQL's encoding names (pg_encname_tbl, cleaned: lower case, alphanumerics only):
# a valid name other than UTF8 is refused as not supported rather than as invalid.
_PG_ENCODINGS = frozenset("""
abc alt big5 euccn eucjis2004 eucjp euckr euctw gb18030 gbk iso88591 iso885910 iso885913
iso885914 iso885915 iso885916 iso88592 iso88593 iso88594 iso88595 iso88596 iso88597
iso88598 iso88599 johab koi8 koi8r koi8u latin1 latin10 latin2 latin3 latin4 latin5
latin6 latin7 latin8 latin9 mskanji muleinternal shiftjis shiftjis2004 sjis sqlascii tcvn
tcvn5712 uhc unicode utf8 vscii win win1250 win1251 win1252 win1253 win1254 win1255
win1256 win1257 win1258 win866 win874 win932 win936 win949 win950 windows1250
windows1251 windows1252 windows1253 windows1254 windows1255 windows1256 windows1257
windows1258 windows866 windows874 windows932 windows936 windows949 windows950
""".split())

_TEXT_DELIM_FORBIDDEN = "\\.abcdefghijklmnopqrstuvwxyz0123456789"


@dataclass(frozen=True)
class CopyOptions:
    """COPY's validated options, defaults filled in (PostgreSQL's CopyFormatOptions).

    header: False, True or 'match'. force_quote: '*' or a tuple of column names;
    force_not_null / force_null: tuples of column names (checked against the columns
    by the engine, which knows them)."""

    format: str = "text"  # 'text' | 'csv' | 'binary'
    delimiter: str = "\t"
    null: str = "\\N"
    header: object = False
    quote: str = '"'
    escape: str = '"'
    force_quote: object = ()
    force_not_null: tuple = ()
    force_null: tuple = ()
    freeze: bool = False
    encoding: str | None = None

    @property
    def csv(self) -> bool:
        return self.format == "csv"

    @property
    def binary(self) -> bool:
        return self.format == "binary"


def _boolean(value) -> bool | None:
    """defGetBoolean's spellings: no value, true/false/on/off (any case), 1/0; else None."""
    if value is None or value is True or value is False:
        return value is not False
    if isinstance(value, int):
        return bool(value) if value in (0, 1) else None
    if isinstance(value, str):
        return {"true": True, "on": True, "1": True,
                "false": False, "off": False, "0": False}.get(value.lower())
    return None


def _as_bool(name: str, value) -> bool:
    b = _boolean(value)
    if b is None:
        raise errors.SyntaxError(f"{name} requires a Boolean value")
    return b


def _as_header(value, is_from: bool):
    """defGetCopyHeaderChoice: a Boolean or "match" (COPY FROM only)."""
    if isinstance(value, str) and value.lower() == "match":
        if not is_from:
            raise errors.FeatureNotSupported(f'cannot use "{value}" with HEADER in COPY TO')
        return "match"
    b = None if isinstance(value, str) and value in ("0", "1") else _boolean(value)
    if b is None:  # unlike defGetBoolean, the quoted words '0' and '1' are not Booleans
        raise errors.SyntaxError('header requires a Boolean value or "match"')
    return b


def _as_string(name: str, value) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (bool, tuple, list)):
        raise errors.SyntaxError(f"{name} requires a parameter")
    return str(value)


def _as_names(name: str, value) -> tuple:
    if isinstance(value, str) and value != "*":
        return (value,)
    if isinstance(value, (tuple, list)):
        return tuple(value)
    raise errors.InvalidParameterValue(
        f'argument to option "{name}" must be a list of column names')


def clean_encoding_name(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def parse_options(options, is_from: bool) -> CopyOptions:
    """Validate COPY's (name, value) options as PostgreSQL's ProcessCopyOptions does, in
    its order, with its messages and SQLSTATEs."""
    seen: set[str] = set()
    fmt = "text"
    vals: dict = {}
    for name, value in options:
        name = name.lower()
        if name in seen:
            raise errors.SyntaxError("conflicting or redundant options")
        seen.add(name)
        if name == "format":
            f = _as_string(name, value)
            if f not in ("text", "csv", "binary"):
                raise errors.InvalidParameterValue(f'COPY format "{f}" not recognized')
            fmt = f
        elif name == "freeze":
            vals["freeze"] = _as_bool(name, value)
        elif name in ("delimiter", "null", "quote", "escape"):
            vals[name] = _as_string(name, value)
        elif name == "header":
            vals["header"] = _as_header(value, is_from)
        elif name == "force_quote":
            vals[name] = "*" if value == "*" else _as_names(name, value)
        elif name in ("force_not_null", "force_null"):
            vals[name] = _as_names(name, value)
        elif name == "encoding":
            enc = _as_string(name, value)
            cleaned = clean_encoding_name(enc)
            if cleaned not in _PG_ENCODINGS:
                raise errors.InvalidParameterValue(
                    'argument to option "encoding" must be a valid encoding name')
            if cleaned not in _UTF8_NAMES and cleaned != "sqlascii":
                raise errors.FeatureNotSupported(
                    f'COPY ENCODING "{enc}" is not supported: immusql reads and writes '
                    "UTF8 only")
            vals["encoding"] = enc
        else:
            raise errors.SyntaxError(f'option "{name}" not recognized')
    csv, binary = fmt == "csv", fmt == "binary"
    if binary and "delimiter" in vals:
        raise errors.SyntaxError("cannot specify DELIMITER in BINARY mode")
    if binary and "null" in vals:
        raise errors.SyntaxError("cannot specify NULL in BINARY mode")
    delim = vals.get("delimiter", "," if csv else "\t")
    null = vals.get("null", "" if csv else "\\N")
    quote = vals.get("quote", '"') if csv else vals.get("quote")
    escape = (vals.get("escape", quote) if csv else vals.get("escape"))
    if len(delim.encode()) != 1:
        raise errors.FeatureNotSupported("COPY delimiter must be a single one-byte character")
    if delim in "\r\n":
        raise errors.InvalidParameterValue(
            "COPY delimiter cannot be newline or carriage return")
    if "\r" in null or "\n" in null:
        raise errors.InvalidParameterValue(
            "COPY null representation cannot use newline or carriage return")
    if not csv and delim in _TEXT_DELIM_FORBIDDEN:
        raise errors.InvalidParameterValue(f'COPY delimiter cannot be "{delim}"')
    header = vals.get("header", False)
    if binary and header:
        raise errors.FeatureNotSupported("cannot specify HEADER in BINARY mode")
    if not csv and quote is not None:
        raise errors.FeatureNotSupported("COPY quote available only in CSV mode")
    if csv and len(quote.encode()) != 1:
        raise errors.FeatureNotSupported("COPY quote must be a single one-byte character")
    if csv and delim == quote:
        raise errors.InvalidParameterValue("COPY delimiter and quote must be different")
    if not csv and escape is not None:
        raise errors.FeatureNotSupported("COPY escape available only in CSV mode")
    if csv and len(escape.encode()) != 1:
        raise errors.FeatureNotSupported("COPY escape must be a single one-byte character")
    fq = vals.get("force_quote", ())
    if not csv and fq:
        raise errors.FeatureNotSupported("COPY force quote available only in CSV mode")
    if fq and is_from:
        raise errors.FeatureNotSupported("COPY force quote only available using COPY TO")
    fnn = vals.get("force_not_null", ())
    if not csv and fnn:
        raise errors.FeatureNotSupported("COPY force not null available only in CSV mode")
    if fnn and not is_from:
        raise errors.FeatureNotSupported(
            "COPY force not null only available using COPY FROM")
    fn = vals.get("force_null", ())
    if not csv and fn:
        raise errors.FeatureNotSupported("COPY force null available only in CSV mode")
    if fn and not is_from:
        raise errors.FeatureNotSupported("COPY force null only available using COPY FROM")
    if delim in null:
        raise errors.FeatureNotSupported(
            "COPY delimiter must not appear in the NULL specification")
    if csv and quote in null:
        raise errors.FeatureNotSupported(
            "CSV quote character must not appear in the NULL specification")
    return CopyOptions(fmt, delim, null, header, quote or '"', escape or '"', fq, fnn, fn,
                       vals.get("freeze", False), vals.get("encoding"))
