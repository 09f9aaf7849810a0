"""PostgreSQL's lexical rules (src/backend/parser/scan.l) for immusql's parser.

A hand-written tokenizer rather than Lark's: nested /* */ comments, dollar quoting with
tags, string continuation across newlines, E'' escapes and PostgreSQL's rules for where an
operator ends are not regular, and PostgreSQL's parser needs one token of lookahead that
the lexer provides (NOT_LA, WITH_LA, _NULLS_LA). Lexical errors are raised here directly, in
PostgreSQL's words and with its 1-based error position.

Token values: identifiers are case-folded (unquoted: ASCII lower case) and truncated to 63
bytes; keywords carry their lower-case text; string constants are decoded; numbers and
parameters keep their digits as written. Which words are keywords comes from the grammar's
string terminals (see `Tokenizer`).
"""

from __future__ import annotations

import re

from lark import Token

from .. import errors

NAMEDATALEN = 64  # PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes
MAX_NESTING = 200  # parentheses/brackets deeper than this: StatementTooComplex (54001)
_NEAR_MAX = 100  # characters of the remaining text quoted in "at or near" messages

_MASTER = re.compile(r"""[ \t\n\r\f\v]*+(?:  # possessive: never give white space back
  (?P<comment>--[^\n\r]*)
| (?P<block>/\*)
| (?P<estr>[eE]')
| (?P<bstr>[bB]')
| (?P<xstr>[xX]')
| (?P<nstr>[nN]')
| (?P<ustr>[uU]&')
| (?P<uident>[uU]&")
| (?P<word>[A-Za-z_\x80-\U0010ffff][A-Za-z_0-9$\x80-\U0010ffff]*)
| (?P<num>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)
| (?P<str>')
| (?P<qident>")
| (?P<dollar>\$(?:[A-Za-z_\x80-\U0010ffff][A-Za-z_0-9\x80-\U0010ffff]*)?\$)
| (?P<param>\$\d+)
| (?P<special>::|:=|\.\.)
| (?P<op>[~!@\#^&|`?+\-*/%<>=]+)
| (?P<self>[(),;\[\].:])
| (?P<other>.)
)""", re.X | re.S)

_CONTINUATION = re.compile(r"[ \t\f\v]*[\n\r][ \t\n\r\f\v]*'")
_COMMENT_DELIM = re.compile(r"/\*|\*/")
_E_SPECIAL = re.compile(r"[\\']")
_E_ESCAPE = re.compile(
    r"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))|''", re.S)
_U_ESCAPE = re.compile(r"\\(?:([0-9A-Fa-f]{4})|\+([0-9A-Fa-f]{6})|(\\)|(.?))", re.S)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_SIMPLE_ESCAPES = {"b": b"\b", "f": b"\f", "n": b"\n", "r": b"\r", "t": b"\t"}

# Operator and punctuation tokens, named as in grammar/sql.lark.
PUNCTUATION = {
    "(": "LPAR", ")": "RPAR", ",": "COMMA", ";": "SEMICOLON", "[": "LSQB", "]": "RSQB",
    ".": "DOT", ":": "COLON", "::": "TYPECAST", "..": "DOT_DOT", ":=": "COLON_EQUALS",
    "+": "PLUS", "-": "MINUS", "*": "STAR", "/": "SLASH", "%": "PERCENT", "^": "CIRCUMFLEX",
    "=": "EQ", "<": "LT", ">": "GT", "<=": "LE", ">=": "GE", "<>": "NE", "!=": "NE",
    "=>": "EQUALS_GREATER",
}
_OPENERS = frozenset({"LPAR", "LSQB"})
_CLOSERS = frozenset({"RPAR", "RSQB"})
# Characters that let a multi-character operator end in + or - (scan.l's rule).
_OP_SPECIALS = frozenset("~!@#^&|`?%")

# One-token lookahead, as in PostgreSQL's parser.c base_yylex(). NULLS is not a keyword
# here (so it stays a name), except before FIRST/LAST (NULLS_LA in PostgreSQL) and before
# [NOT] DISTINCT, where PostgreSQL's grammar has its NULLS_P keyword.
_LOOKAHEAD = {
    "NOT": ("NOT_LA", frozenset({"BETWEEN", "IN", "LIKE", "ILIKE", "SIMILAR"})),
    "WITH": ("WITH_LA", frozenset({"TIME", "ORDINALITY"})),
    "nulls": ("_NULLS_LA", frozenset({"FIRST", "LAST", "DISTINCT"})),
}
_LOOKAHEAD_FOLLOWERS = frozenset().union(*(f for _, f in _LOOKAHEAD.values()))


def _lex_error(message: str, sql: str, start: int, end: int | None = None):
    """PostgreSQL's scanner_yyerror(): `<message> at or near "<token>"` at the token's start,
    where the token of an unterminated literal is the rest of the input (cut short here)."""
    if start >= len(sql):
        return errors.SyntaxError(f"{message} at end of input", position=len(sql) + 1)
    near = sql[start:min(end if end is not None else len(sql), start + _NEAR_MAX)]
    return errors.SyntaxError(f'{message} at or near "{near}"', position=start + 1)


def _data_error(cls, message: str, sqlstate: str | None, start: int, **kw):
    err = cls(message, position=start + 1, **kw)
    if sqlstate:
        err.sqlstate = sqlstate
    return err


def fold_identifier(word: str) -> str:
    """Unquoted identifiers: ASCII letters to lower case (PostgreSQL leaves others alone)."""
    folded = word.lower() if word.isascii() else word.translate(_ASCII_LOWER)
    return truncate_identifier(folded)


def truncate_identifier(name: str) -> str:
    if len(name) < NAMEDATALEN:
        return name
    raw = name.encode("utf-8")
    if len(raw) < NAMEDATALEN:
        return name
    return raw[:NAMEDATALEN - 1].decode("utf-8", "ignore")


def _split_operator(text: str) -> str:
    """The part of a run of operator characters that forms one operator (scan.l)."""
    cut = len(text)
    for marker in ("/*", "--"):
        i = text.find(marker)
        if 0 < i < cut:
            cut = i
    text = text[:cut]
    if len(text) > 1 and text[-1] in "+-" and not _OP_SPECIALS.intersection(text):
        text = text.rstrip("+-") or text[0]
    return text


class SqlToken(Token):
    """Lark's Token, made faster to create: the lexer sets type, value and the offsets; the
    line and column Lark can track are not used (positions are character offsets)."""

    __slots__ = ()
    line = column = end_line = end_column = None

    def __new__(cls, type_: str, value: str, start: int, end: int):
        token = str.__new__(cls, value)
        token.type, token.value, token.start_pos, token.end_pos = type_, value, start, end
        return token


class Tokenizer:
    """Turns SQL text into Lark tokens for the grammar whose terminals it is given.

    Keywords are the grammar's case-insensitive string terminals made of letters; a word
    that is not one of them is an identifier.
    """

    def __init__(self, terminals):
        self.keywords: dict[str, str] = {}
        for term in terminals:
            pattern = term.pattern
            if pattern.type == "str" and pattern.value.replace("_", "").isalpha():
                if "i" not in pattern.flags:
                    raise ValueError(f"keyword terminal {term.name} must be case-insensitive")
                self.keywords[pattern.value.lower()] = term.name

    def tokenize(self, sql: str) -> list[Token]:
        """All tokens of `sql`, SEMICOLONs included (for tests and tools)."""
        return list(self.scan(sql))

    def scan(self, sql: str):  # noqa: C901 - one loop, one branch per kind of token
        """Yield the tokens of `sql`; a lexical error is raised when it is reached. A token
        the next one may retype (NOT, WITH, NULLS: see _LOOKAHEAD) is held back until that
        one is seen."""
        keywords = self.keywords
        match = _MASTER.match
        new = SqlToken
        pos = depth = 0
        held = None
        while True:
            m = match(sql, pos)
            if m is None:  # only white space is left
                break
            kind = m.lastgroup
            start, end = m.start(kind), m.end()
            hold = False
            if kind == "word":
                text = m.group(kind)
                folded = text.lower() if text.isascii() else text.translate(_ASCII_LOWER)
                ttype = keywords.get(folded)
                if ttype is None:
                    if len(folded) >= NAMEDATALEN:
                        folded = truncate_identifier(folded)
                    tok = new("IDENT", folded, start, end)
                    hold = folded == "nulls"
                else:
                    tok = new(ttype, folded, start, end)
                    hold = ttype == "NOT" or ttype == "WITH"
            elif kind == "op" or kind == "self" or kind == "special":
                text = m.group(kind)
                if kind == "op":
                    text = _split_operator(text)
                    end = start + len(text)
                    if len(text) >= NAMEDATALEN:
                        raise _lex_error("operator too long", sql, start, end)
                ttype = PUNCTUATION.get(text, "OP")
                if ttype in _OPENERS:
                    depth += 1
                    if depth > MAX_NESTING:
                        raise _too_complex(start)
                elif ttype in _CLOSERS:
                    depth -= 1
                elif ttype == "SEMICOLON":
                    depth = 0
                tok = new(ttype, text, start, end)
            elif kind == "num":
                text = m.group(kind)
                tok = new("ICONST" if text.isdigit() else "FCONST", text, start, end)
            elif kind == "comment":
                pos = end
                continue
            elif kind == "block":
                pos = _skip_comment(sql, start)
                continue
            elif kind == "param":
                tok = new("PARAM", m.group(kind)[1:], start, end)
            elif kind == "dollar":
                tag = m.group(kind)
                close = sql.find(tag, end)
                if close < 0:
                    raise _lex_error("unterminated dollar-quoted string", sql, start)
                end = close + len(tag)
                tok = new("SCONST", sql[m.end():close], start, end)
            elif kind == "qident" or kind == "uident":
                name, end = _scan_quoted_identifier(sql, start, end, kind == "uident")
                tok = new("QIDENT", name, start, end)
            elif kind == "other":
                tok = new("OTHER", m.group(kind), start, end)
            else:  # one of the string constant kinds
                ttype, value, end = _scan_string(sql, start, end, kind)
                tok = new(ttype, value, start, end)
            pos = end
            if held is not None:
                _retype(held, tok)
                if tok.type == "NOT" and len(held) == 1 and held[0].type == "IDENT":
                    held.append(tok)  # NULLS NOT: DISTINCT may follow
                    continue
                yield from held
                held = None
            if hold:
                held = [tok]
            else:
                yield tok
        if held is not None:
            yield from held


def _retype(held: list[Token], follower: Token) -> None:
    """PostgreSQL's lookahead: retype the held token(s) given the token that follows."""
    ftype = follower.type
    if ftype not in _LOOKAHEAD_FOLLOWERS:
        return
    last = held[-1]
    if ftype == "DISTINCT" and last.type == "NOT" and len(held) > 1:
        last = held[-2]  # NULLS NOT DISTINCT
    rule = _LOOKAHEAD.get(last.type if last.type != "IDENT" else last.value)
    if rule is not None and ftype in rule[1]:
        last.type = rule[0]


def _too_complex(pos: int) -> errors.StatementTooComplex:
    return errors.StatementTooComplex(
        "stack depth limit exceeded", position=pos + 1,
        detail=f"Parentheses and brackets are nested more than {MAX_NESTING} levels deep.",
        hint="Simplify the statement.")


def _skip_comment(sql: str, start: int) -> int:
    """End of the (nested) block comment opening at `start`."""
    depth, i = 0, start
    while True:
        m = _COMMENT_DELIM.search(sql, i)
        if m is None:
            raise _lex_error("unterminated /* comment", sql, start)
        depth += 1 if m.group() == "/*" else -1
        i = m.end()
        if depth == 0:
            return i


def _scan_quoted_identifier(sql: str, start: int, body: int, unicode: bool) -> tuple[str, int]:
    """A "quoted" identifier ("" is a quote): its name and end offset."""
    parts, i = [], body
    while True:
        j = sql.find('"', i)
        if j < 0:
            raise _lex_error("unterminated quoted identifier", sql, start)
        if sql.startswith('"', j + 1):
            parts.append(sql[i:j + 1])
            i = j + 2
            continue
        parts.append(sql[i:j])
        break
    name = "".join(parts)
    if not name:
        raise _lex_error("zero-length delimited identifier", sql, start, j + 1)
    if unicode:
        name = _decode_unicode_escapes(name, start)
    return truncate_identifier(name), j + 1


def _scan_plain_body(sql: str, start: int, body: int, what: str) -> tuple[str, int]:
    """A '...' body ('' is a quote, backslashes are literal): its text and end offset."""
    parts, i = [], body
    while True:
        j = sql.find("'", i)
        if j < 0:
            raise _lex_error(f"unterminated {what}", sql, start)
        if sql.startswith("'", j + 1):
            parts.append(sql[i:j + 1])
            i = j + 2
            continue
        parts.append(sql[i:j])
        return "".join(parts), j + 1


def _scan_escape_body(sql: str, start: int, body: int) -> tuple[str, int]:
    """An E'...' body, escapes not yet decoded: its raw text and end offset."""
    i = body
    while True:
        m = _E_SPECIAL.search(sql, i)
        if m is None:
            raise _lex_error("unterminated quoted string", sql, start)
        j = m.start()
        if sql[j] == "\\":
            i = j + 2
            continue
        if sql.startswith("'", j + 1):
            i = j + 2
            continue
        return sql[body:j], j + 1


_WHAT = {"str": "quoted string", "nstr": "quoted string", "estr": "quoted string",
         "ustr": "quoted string", "bstr": "bit string literal",
         "xstr": "hexadecimal string literal"}


def _scan_string(sql: str, start: int, body: int, kind: str) -> tuple[str, str, int]:
    """A string constant with its continuations: (token type, value, end offset)."""
    segments = []
    while True:
        if kind == "estr":
            raw, end = _scan_escape_body(sql, start, body)
            segments.append(_decode_e_string(raw, start))
        else:
            text, end = _scan_plain_body(sql, start, body, _WHAT[kind])
            segments.append(text)
        m = _CONTINUATION.match(sql, end)
        if m is None:
            break
        body = m.end()
    value = "".join(segments)
    if kind == "bstr":
        bad = re.search(r"[^01]", value)
        if bad:
            raise _data_error(errors.InvalidTextRepresentation,
                              f'"{bad.group()}" is not a valid binary digit', None, start)
        return "BCONST", value, end
    if kind == "xstr":
        bad = re.search(r"[^0-9A-Fa-f]", value)
        if bad:
            raise _data_error(errors.InvalidTextRepresentation,
                              f'"{bad.group()}" is not a valid hexadecimal digit', None, start)
        return "XCONST", value, end
    if kind == "ustr":
        value = _decode_unicode_escapes(value, start)
    return "SCONST", value, end


def _decode_e_string(raw: str, start: int) -> str:
    """Backslash escapes of E'...' strings. Octal and hex escapes are bytes, so the result
    is decoded as UTF-8 at the end, as PostgreSQL does."""
    if "\\" not in raw:
        return raw.replace("''", "'")
    out = bytearray()
    last, high = 0, None
    for m in _E_ESCAPE.finditer(raw):
        out += raw[last:m.start()].encode("utf-8")
        last = m.end()
        octal, hexa, u4, u8, other = m.groups()
        if m.group() == "''":
            out += b"'"
            continue
        if u4 or u8:
            code = int(u4 or u8, 16)
            if 0xD800 <= code <= 0xDBFF:
                high = code
                continue
            if 0xDC00 <= code <= 0xDFFF:
                if high is None:
                    raise _bad_unicode("invalid Unicode surrogate pair", start)
                code = 0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00)
                high = None
            if code == 0 or code > 0x10FFFF:
                raise _bad_unicode("invalid Unicode escape value", start)
            out += chr(code).encode("utf-8")
            continue
        if high is not None:
            raise _bad_unicode("invalid Unicode surrogate pair", start)
        if octal:
            out.append(int(octal, 8) & 0xFF)
        elif hexa:
            out.append(int(hexa, 16))
        elif other in ("u", "U"):
            raise _bad_unicode("invalid Unicode escape", start,
                               hint="Unicode escapes must be \\uXXXX or \\UXXXXXXXX.")
        else:
            out += _SIMPLE_ESCAPES.get(other) or other.encode("utf-8")
    if high is not None:
        raise _bad_unicode("invalid Unicode surrogate pair", start)
    out += raw[last:].replace("''", "'").encode("utf-8")
    if 0 in out:
        raise _data_error(errors.DataError,
                          'invalid byte sequence for encoding "UTF8": 0x00', "22021", start)
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError as e:
        byte = out[e.start]
        raise _data_error(errors.DataError,
                          f'invalid byte sequence for encoding "UTF8": 0x{byte:02x}',
                          "22021", start) from None


def _bad_unicode(message: str, start: int, hint: str | None = None):
    return _data_error(errors.InvalidEscapeSequence, message, None, start, hint=hint)


def _decode_unicode_escapes(text: str, start: int) -> str:
    """U&'...' and U&"..." escapes: \\XXXX, \\+XXXXXX, \\\\ (no UESCAPE clause)."""
    if "\\" not in text:
        return text

    def repl(m: re.Match) -> str:
        h4, h6, backslash, _bad = m.groups()
        if backslash:
            return "\\"
        if not (h4 or h6):
            raise errors.SyntaxError("invalid Unicode escape", position=start + 1,
                                     hint="Unicode escapes must be \\XXXX or \\+XXXXXX.")
        code = int(h4 or h6, 16)
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise errors.SyntaxError("invalid Unicode escape value", position=start + 1)
        return chr(code)

    return _U_ESCAPE.sub(repl, text)
