"""json and jsonb values: PostgreSQL's validation, jsonb's normal form and its operators.

Why: json values are kept as text exactly as given, jsonb values as text in PostgreSQL's
normalised output form ('{"a": 1, "b": [1, 2]}': keys sorted by length then bytes,
duplicates resolved last-wins, numbers as numeric prints them). Results are compared
with PostgreSQL's, so the parser is strict where PostgreSQL is (no NaN, no leading
zeros, no lone surrogates; \\u0000 is refused by jsonb only) and output is byte-identical.

Parsed form (internal): dict / list / str / Decimal / True / False / None (JSON null).
"""

from __future__ import annotations

import re
from decimal import Decimal

from ..errors import InvalidTextRepresentation
from .numerics import UntranslatableCharacter, format_numeric, norm

_WS = " \t\n\r"
_NUM_RE = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_ESC = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
        "t": "\t"}


class _Bad(Exception):
    pass


class _Parser:
    __slots__ = ("s", "i", "jsonb")

    def __init__(self, s: str, jsonb: bool):
        self.s = s
        self.i = 0
        self.jsonb = jsonb

    def ws(self):
        s, i = self.s, self.i
        while i < len(s) and s[i] in _WS:
            i += 1
        self.i = i

    def value(self, depth=0):
        self.ws()
        s, i = self.s, self.i
        if i >= len(s):
            raise _Bad()
        c = s[i]
        if c == "{":
            return self.obj(depth)
        if c == "[":
            return self.arr(depth)
        if c == '"':
            return self.string()
        if s.startswith("true", i):
            self.i = i + 4
            return self._word_end(True)
        if s.startswith("false", i):
            self.i = i + 5
            return self._word_end(False)
        if s.startswith("null", i):
            self.i = i + 4
            return self._word_end(None)
        m = _NUM_RE.match(s, i)
        if not m:
            raise _Bad()
        self.i = m.end()
        if self.i < len(s) and (s[self.i].isalnum() or s[self.i] in "._"):
            raise _Bad()
        return norm(Decimal(m.group()))

    def _word_end(self, v):
        if self.i < len(self.s) and (self.s[self.i].isalnum() or self.s[self.i] == "_"):
            raise _Bad()
        return v

    def obj(self, depth):
        self.i += 1
        out: dict = {}
        self.ws()
        if self.i < len(self.s) and self.s[self.i] == "}":
            self.i += 1
            return out
        while True:
            self.ws()
            if self.i >= len(self.s) or self.s[self.i] != '"':
                raise _Bad()
            k = self.string()
            self.ws()
            if self.i >= len(self.s) or self.s[self.i] != ":":
                raise _Bad()
            self.i += 1
            v = self.value(depth + 1)
            out.pop(k, None)
            out[k] = v
            self.ws()
            if self.i >= len(self.s):
                raise _Bad()
            c = self.s[self.i]
            self.i += 1
            if c == "}":
                return out
            if c != ",":
                raise _Bad()

    def arr(self, depth):
        self.i += 1
        out: list = []
        self.ws()
        if self.i < len(self.s) and self.s[self.i] == "]":
            self.i += 1
            return out
        while True:
            out.append(self.value(depth + 1))
            self.ws()
            if self.i >= len(self.s):
                raise _Bad()
            c = self.s[self.i]
            self.i += 1
            if c == "]":
                return out
            if c != ",":
                raise _Bad()

    def string(self) -> str:
        s = self.s
        i = self.i + 1
        parts = []
        start = i
        while True:
            if i >= len(s):
                raise _Bad()
            c = s[i]
            if c == '"':
                parts.append(s[start:i])
                self.i = i + 1
                return "".join(parts)
            if c < " ":
                raise _Bad()
            if c == "\\":
                parts.append(s[start:i])
                if i + 1 >= len(s):
                    raise _Bad()
                e = s[i + 1]
                if e == "u":
                    cp, i = self._u(i)
                    if not self.jsonb:
                        # json keeps its text: escapes are only checked for syntax
                        parts.append(chr(cp))
                        start = i
                        continue
                    if 0xD800 <= cp <= 0xDBFF:
                        if s.startswith("\\u", i):
                            lo, j = self._u(i)
                            if 0xDC00 <= lo <= 0xDFFF:
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                                i = j
                            else:
                                raise _Bad()
                        else:
                            raise _Bad()
                    elif 0xDC00 <= cp <= 0xDFFF:
                        raise _Bad()
                    if cp == 0 and self.jsonb:
                        raise UntranslatableCharacter("unsupported Unicode escape sequence",
                                                      detail="\\u0000 cannot be converted "
                                                             "to text.")
                    parts.append(chr(cp))
                    start = i
                    continue
                if e not in _ESC:
                    raise _Bad()
                parts.append(_ESC[e])
                i += 2
                start = i
                continue
            i += 1

    def _u(self, i):
        h = self.s[i + 2:i + 6]
        if len(h) != 4 or not all(c in "0123456789abcdefABCDEF" for c in h):
            raise _Bad()
        return int(h, 16), i + 6


def parse(text: str, jsonb: bool = True):
    """Parse JSON text with PostgreSQL's rules (InvalidTextRepresentation 22P02)."""
    p = _Parser(text, jsonb)
    try:
        v = p.value()
        p.ws()
        if p.i != len(text):
            raise _Bad()
    except (_Bad, RecursionError):
        raise InvalidTextRepresentation("invalid input syntax for type json") from None
    return v


def validate_json(text: str) -> str:
    """json input: validated, kept as written."""
    parse(text, jsonb=False)
    return text


def escape_string(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch >= " ":
            out.append(ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        else:
            out.append(f"\\u{ord(ch):04x}")
    out.append('"')
    return "".join(out)


def key_order(k: str):
    b = k.encode()
    return (len(b), b)


def dump(v) -> str:
    """jsonb output (normal form) of a parsed value."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, Decimal):
        return format_numeric(v)
    if isinstance(v, str):
        return escape_string(v)
    if isinstance(v, list):
        return "[" + ", ".join(dump(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{escape_string(k)}: {dump(v[k])}"
                               for k in sorted(v, key=key_order)) + "}"
    if isinstance(v, int):
        return str(v)
    raise TypeError(f"not a JSON value: {v!r}")


def normalize_jsonb(text: str) -> str:
    """jsonb input: parse and print in PostgreSQL's normal form."""
    return dump(parse(text, jsonb=True))


def pretty(v, indent: int = 0) -> str:
    """jsonb_pretty's layout (4 spaces; empty containers print open/close on two lines)."""
    pad = "    " * (indent + 1)
    if isinstance(v, dict):
        if not v:
            return "{\n" + "    " * indent + "}"
        items = [f"{pad}{escape_string(k)}: {pretty(v[k], indent + 1)}"
                 for k in sorted(v, key=key_order)]
        return "{\n" + ",\n".join(items) + "\n" + "    " * indent + "}"
    if isinstance(v, list):
        if not v:
            return "[\n" + "    " * indent + "]"
        return "[\n" + ",\n".join(pad + pretty(x, indent + 1) for x in v) + "\n" + \
            "    " * indent + "]"
    return dump(v)


def typeof(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, Decimal):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


# ------------------------------------------------------------------------ raw json --

def raw_children(text: str):
    """For json (not jsonb) operators, which return slices of the original text: the
    top-level container as ('object', [(key, raw), ...]) or ('array', [raw, ...]), or
    ('scalar', value)."""
    p = _Parser(text, False)
    try:
        p.ws()
        if p.i >= len(text):
            raise _Bad()
        c = text[p.i]
        if c not in "{[":
            return "scalar", parse(text, False)
        p.i += 1
        items = []
        p.ws()
        close = "}" if c == "{" else "]"
        if p.i < len(text) and text[p.i] == close:
            return ("object" if c == "{" else "array"), items
        while True:
            p.ws()
            key = None
            if c == "{":
                if text[p.i] != '"':
                    raise _Bad()
                key = p.string()
                p.ws()
                if text[p.i] != ":":
                    raise _Bad()
                p.i += 1
                p.ws()
            start = p.i
            p.value()
            raw = text[start:p.i]
            items.append((key, raw) if c == "{" else raw)
            p.ws()
            sep = text[p.i]
            p.i += 1
            if sep == close:
                break
            if sep != ",":
                raise _Bad()
        return ("object" if c == "{" else "array"), items
    except (_Bad, IndexError):
        raise InvalidTextRepresentation("invalid input syntax for type json") from None


# ----------------------------------------------------------------------- operators --

def get_field(v, key):
    """-> with a text key (objects) or an integer index (arrays, negative from the end)."""
    if isinstance(key, str):
        if isinstance(v, dict):
            return v.get(key, _MISSING)
        return _MISSING
    if isinstance(v, list):
        idx = key if key >= 0 else len(v) + key
        if 0 <= idx < len(v):
            return v[idx]
    return _MISSING


class _Missing:
    def __repr__(self):
        return "MISSING"


_MISSING = _Missing()
MISSING = _MISSING


def get_path(v, path: list):
    """#> : follow text[] path elements (array steps must be integers)."""
    for step in path:
        if step is None:
            return _MISSING
        if isinstance(v, list):
            try:
                idx = int(step)
            except ValueError:
                return _MISSING
            v = get_field(v, idx)
        elif isinstance(v, dict):
            v = v.get(step, _MISSING)
        else:
            return _MISSING
        if v is _MISSING:
            return v
    return v


def as_text(v) -> str | None:
    """->> : strings unquoted, JSON null -> SQL NULL, others in jsonb form."""
    if v is None or v is _MISSING:
        return None
    if isinstance(v, str):
        return v
    return dump(v)


def contains(a, b, top: bool = True) -> bool:
    """jsonb @> (a contains b)."""
    if isinstance(a, dict):
        if not isinstance(b, dict):
            return False
        for k, bv in b.items():
            if k not in a or not contains(a[k], bv, False):
                return False
        return True
    if isinstance(a, list):
        if isinstance(b, list):
            for bv in b:
                if isinstance(bv, (dict, list)):
                    if not any(isinstance(av, type(bv)) and contains(av, bv, False)
                               for av in a):
                        return False
                elif not any(_scalar_eq(av, bv) for av in a):
                    return False
            return True
        if top and not isinstance(b, dict):
            return any(_scalar_eq(av, b) for av in a)
        return False
    if isinstance(b, (dict, list)):
        return False
    return _scalar_eq(a, b)


def _scalar_eq(a, b) -> bool:
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a == b
    return type(a) is type(b) and a == b


def exists(v, key: str) -> bool:
    """? : a top-level key, or a string element of a top-level array."""
    if isinstance(v, dict):
        return key in v
    if isinstance(v, list):
        return any(isinstance(x, str) and x == key for x in v)
    return isinstance(v, str) and v == key


# PostgreSQL's jsonb ordering: Object > Array > Boolean > Number > String > Null, with an
# empty top-level array below null.
def sort_key(v, top: bool = True):
    if isinstance(v, list):
        if top and not v:
            return (-1,)
        return (4, len(v), tuple(sort_key(x, False) for x in v))
    if isinstance(v, dict):
        ks = sorted(v, key=key_order)
        # pairs are visited in storage order (shorter keys first) but keys compare as text
        return (5, len(v), tuple((k.encode(), sort_key(v[k], False)) for k in ks))
    if v is None:
        return (0,)
    if isinstance(v, bool):
        return (3, v)
    if isinstance(v, Decimal):
        return (2, v)
    return (1, v.encode())


def set_path(v, path: list, new, create: bool = True):
    """jsonb_set: replace (or create, for the last step) the value at path."""
    if not path:
        return new
    step = path[0]
    if isinstance(v, dict):
        out = dict(v)
        if step in out:
            out[step] = set_path(out[step], path[1:], new, create)
        elif create and len(path) == 1:
            out[step] = new
        return out
    if isinstance(v, list):
        try:
            idx = int(step)
        except ValueError:
            from ..errors import InvalidTextRepresentation as _ITR
            raise _ITR(f"path element at position 1 is not an integer: \"{step}\"") from None
        out = list(v)
        n = len(out)
        real = idx if idx >= 0 else n + idx
        if 0 <= real < n:
            out[real] = set_path(out[real], path[1:], new, create)
        elif create and len(path) == 1:
            if real < 0:
                out.insert(0, new)
            else:
                out.append(new)
        return out
    return v


def delete_path(v, path: list, level: int = 0):
    """jsonb #- path (PostgreSQL's setPath with JB_PATH_DELETE): remove the value at
    path; a missing step or a scalar on the way leaves the value as it is."""
    step = path[level]
    if step is None:
        from ..errors import NullValueNotAllowed
        raise NullValueNotAllowed(f"path element at position {level + 1} is null")
    last = level == len(path) - 1
    if isinstance(v, dict):
        if step not in v:
            return v
        if last:
            return {k: x for k, x in v.items() if k != step}
        return {k: (delete_path(x, path, level + 1) if k == step else x)
                for k, x in v.items()}
    if isinstance(v, list):
        if re.fullmatch(r"\s*[+-]?[0-9]+", step):  # strtoint: leading blanks only
            idx = int(step)
        else:
            from ..errors import InvalidTextRepresentation as _ITR
            raise _ITR(f"path element at position {level + 1} is not an integer: "
                       f"\"{step}\"") from None
        if idx < 0:
            idx += len(v)
        if not 0 <= idx < len(v):
            return v
        if last:
            return v[:idx] + v[idx + 1:]
        return v[:idx] + [delete_path(v[idx], path, level + 1)] + v[idx + 1:]
    return v
