"""LIKE / ILIKE, SIMILAR TO and POSIX regular expressions, compiled once.

Why: pattern matching is evaluated per row, so patterns are translated to Python `re`
objects once (and cached by pattern text for patterns that are not constants).
PostgreSQL's regular expressions are Tcl's ARE flavour; Python's `re` is close for
everyday patterns. We translate the ARE-only escapes we know (\\m \\M \\y \\Y, [[:alpha:]]
classes) and report invalid patterns as 2201B like PostgreSQL. Known differences: ARE
backreference and lookbehind details, embedded options (?x) beyond i/s/x, and
"longest match" semantics of POSIX alternation (Python takes the first alternative).
"""

from __future__ import annotations

import functools
import re

from ..errors import InvalidEscapeSequence, InvalidRegularExpression, InvalidUseOfEscapeCharacter


def _escape_char(escape: str | None) -> str | None:
    if escape is None:
        return "\\"
    if escape == "":
        return None
    if len(escape) != 1:
        raise InvalidEscapeSequence("invalid escape string",
                                     hint="Escape string must be empty or one character.")
    return escape


@functools.lru_cache(maxsize=1024)
def compile_like(pattern: str, escape: str | None = None, ilike: bool = False):
    """A predicate str -> bool for `x LIKE pattern [ESCAPE e]` (ILIKE: casefolded).
    escape None means the default backslash; '' disables escaping."""
    esc = _escape_char(escape)
    out = []
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if esc is not None and c == esc:
            if i + 1 >= n:
                raise InvalidEscapeSequence("LIKE pattern must not end with escape character")
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "%":
            out.append(".*")
        elif c == "_":
            out.append(".")
        else:
            out.append(re.escape(c))
        i += 1
    rx = re.compile("".join(out), re.DOTALL | (re.IGNORECASE if ilike else 0))
    match = rx.fullmatch
    if ilike:
        return lambda s: match(s) is not None
    return lambda s: match(s) is not None


def like(value: str, pattern: str, escape: str | None = None, ilike: bool = False) -> bool:
    return compile_like(pattern, escape, ilike)(value)


def similar_to_regex(pattern: str, escape: str | None = None) -> str:
    """PostgreSQL's similar_escape(): a SIMILAR TO pattern as an ARE anchored to the
    whole string, '^(?:...)$'. `%` is `.*`, `_` is `.`, `(` does not capture, `.` `^` `$`
    are literal, escape+c passes `\\c` on. Two escape-double-quotes split the pattern
    into '^(?:a){1,1}?(b){1,1}(?:c)$' so that substring(x SIMILAR p ESCAPE e) returns b.
    The final `$` is `\\Z` here: Python's `$` would also match before a final newline."""
    esc = _escape_char(escape)
    out = ["^(?:"]
    nquotes = 0
    after_escape = False
    in_class = False
    class_pos = 0
    for c in pattern:
        if after_escape:
            if c == '"' and not in_class:
                if nquotes == 0:
                    out.append("){1,1}?(")
                elif nquotes == 1:
                    out.append("){1,1}(?:")
                else:
                    raise InvalidUseOfEscapeCharacter(
                        "SQL regular expression may not contain more than two "
                        "escape-double-quote separators")
                nquotes += 1
            else:
                out.append("\\" + c)
            after_escape = False
        elif esc is not None and c == esc:
            after_escape = True
        elif in_class:
            if c == "\\":
                out.append("\\")
            out.append(c)
            class_pos += 1
            if c == "]" and class_pos > 1:
                in_class = False
            elif c == "^" and class_pos == 1:
                class_pos = 0  # a `]` right after `[^` is literal too
        elif c == "[":
            out.append(c)
            in_class, class_pos = True, 0
        elif c == "%":
            out.append(".*")
        elif c == "_":
            out.append(".")
        elif c == "(":
            out.append("(?:")
        elif c in "\\.^$":
            out.append("\\" + c)
        else:
            out.append(c)
    if after_escape:
        raise InvalidEscapeSequence("SIMILAR TO pattern must not end with escape character")
    out.append(")\\Z")
    return "".join(out)


def compile_similar(pattern: str, escape: str | None = None, ci: bool = False):
    """A predicate str -> bool for `x SIMILAR TO pattern [ESCAPE e]`."""
    match = compile_regex(similar_to_regex(pattern, escape), "i" if ci else "").match
    return lambda s: match(s) is not None


def similar_substring(value: str, pattern: str, escape: str | None):
    """substring(value SIMILAR pattern ESCAPE escape): the part between the
    escape-double-quotes (the whole match without them), NULL if no match."""
    m = compile_regex(similar_to_regex(pattern, escape)).match(value)
    if m is None:
        return None
    return m.group(1) if m.re.groups else m.group(0)


_CLASSES = {"alpha": r"^\W\d_", "digit": r"\d", "alnum": r"^\W_", "upper": "A-Z",
            "lower": "a-z", "space": r"\s", "punct": r"!-/:-@\[-`{-~", "xdigit": "0-9A-Fa-f",
            "word": r"\w", "blank": r" \t", "cntrl": r"\x00-\x1f\x7f",
            "print": r"\x20-\x7e", "graph": r"\x21-\x7e"}


def _translate_are(p: str) -> str:
    """Translate ARE-specific syntax to Python's re."""
    out = []
    i = 0
    n = len(p)
    while i < n:
        c = p[i]
        if c == "\\" and i + 1 < n:
            d = p[i + 1]
            if d == "m":
                out.append(r"\b(?=\w)")
            elif d == "M":
                out.append(r"\b(?<=\w)")
            elif d == "y":
                out.append(r"\b")
            elif d == "Y":
                out.append(r"\B")
            elif d == "A":
                out.append(r"\A")
            elif d == "Z":
                out.append(r"\Z")
            else:
                out.append(p[i:i + 2])
            i += 2
            continue
        if c == "[":
            j = i + 1
            buf = ["["]
            if j < n and p[j] == "^":
                buf.append("^")
                j += 1
            if j < n and p[j] == "]":
                buf.append(r"\]")
                j += 1
            negated_class = False
            while j < n and p[j] != "]":
                if p.startswith("[:", j):
                    end = p.find(":]", j + 2)
                    if end < 0:
                        raise InvalidRegularExpression(
                            "invalid regular expression: brackets [] not balanced")
                    name = p[j + 2:end]
                    cls = _CLASSES.get(name)
                    if cls is None:
                        raise InvalidRegularExpression(
                            "invalid regular expression: invalid character class")
                    if cls.startswith("^"):
                        negated_class = True
                        buf.append({"alpha": "a-zA-Z\u00c0-\uffff", "alnum": "a-zA-Z0-9"}
                                   [name])
                    else:
                        buf.append(cls)
                    j = end + 2
                    continue
                if p[j] == "\\" and j + 1 < n:
                    buf.append(p[j:j + 2])
                    j += 2
                    continue
                if p[j] == "[":
                    buf.append(r"\[")
                    j += 1
                    continue
                buf.append(p[j])
                j += 1
            del negated_class
            if j >= n:
                raise InvalidRegularExpression(
                    "invalid regular expression: brackets [] not balanced")
            buf.append("]")
            out.append("".join(buf))
            i = j + 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=2048)
def compile_regex(pattern: str, flags: str = ""):
    """A compiled Python regex for a PostgreSQL ARE with flags ('i' case-insensitive,
    'g' is the caller's, 'n'/'m' newline-sensitive, 's', 'x' expanded)."""
    f = 0
    for ch in flags:
        if ch == "i":
            f |= re.IGNORECASE
        elif ch in "nm":
            f |= re.MULTILINE
        elif ch == "x":
            f |= re.VERBOSE
        elif ch in "gsc":
            pass
        else:
            from ..errors import InvalidParameterValue
            raise InvalidParameterValue(f'invalid regular expression option: "{ch}"')
    if "n" not in flags and "m" not in flags:
        f |= re.DOTALL
    try:
        return re.compile(_translate_are(pattern), f)
    except re.error as e:
        raise InvalidRegularExpression(f"invalid regular expression: {e}") from None


def regex_match(value: str, pattern: str, icase: bool = False) -> bool:
    return compile_regex(pattern, "i" if icase else "").search(value) is not None


def expand_replacement(m: re.Match, repl: str) -> str:
    """PostgreSQL replacement text for one match: \\1..\\9 groups, \\& the whole match,
    \\\\ a backslash."""
    out = []
    i = 0
    n = len(repl)
    while i < n:
        c = repl[i]
        if c == "\\" and i + 1 < n:
            d = repl[i + 1]
            if d.isdigit() and d != "0":
                g = int(d)
                out.append((m.group(g) or "") if g <= (m.re.groups or 0) else "")
                i += 2
                continue
            if d == "&":
                out.append(m.group(0))
                i += 2
                continue
            if d == "\\":
                out.append("\\")
                i += 2
                continue
            out.append(d)
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)
