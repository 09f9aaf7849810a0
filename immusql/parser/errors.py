"""Syntax errors in PostgreSQL's words: `syntax error at or near "FORM"` or `syntax error at
end of input`, SQLSTATE 42601, with `.position` the 1-based character offset of the
offending token (the "P" field of PostgreSQL's ErrorResponse).

Lark reports an UnexpectedToken (with the set of terminals it expected); the transformer
reports a `TokenError` at an offset. Both become `immusql.errors.SyntaxError` here, where the
SQL text is known. A small table of hints (a reserved word used as a name, a keyword typo, a
missing parenthesis, a trailing comma) adds a HINT where one is likely to help; the message
itself stays PostgreSQL's.
"""

from __future__ import annotations

from lark import Token

from .. import errors
from .common import TokenError

_NEAR_MAX = 100  # characters of a (long) token quoted in a message
# Keywords that start a clause: after a comma they usually mean the comma is extra.
_CLAUSE_KEYWORDS = frozenset({
    "FROM", "WHERE", "GROUP", "HAVING", "WINDOW", "ORDER", "LIMIT", "OFFSET", "FETCH", "FOR",
    "UNION", "INTERSECT", "EXCEPT", "RETURNING", "ON", "USING", "INTO", "VALUES", "SET",
    "JOIN", "RPAR"})
# Keywords whose misplacement is rarely a name that needs quoting (operators, CASE parts).
_NOT_A_NAME = frozenset({"AND", "OR", "NOT", "NOT_LA", "IS", "IN", "LIKE", "ILIKE", "SIMILAR",
                         "BETWEEN", "END", "THEN", "ELSE", "WHEN", "ON", "USING", "AS"})


def token_text(sql: str, token: Token) -> str:
    """The token as written (a long string constant is cut short)."""
    end = token.end_pos if token.end_pos is not None else token.start_pos + len(token)
    return sql[token.start_pos:min(end, token.start_pos + _NEAR_MAX)]


def syntax_error(sql: str, token: Token | None, *, hint: str | None = None,
                 detail: str | None = None) -> errors.SyntaxError:
    """`syntax error at or near "<token>"`, or `... at end of input` without a token."""
    if token is None:
        return errors.SyntaxError("syntax error at end of input", position=len(sql) + 1,
                                  hint=hint, detail=detail)
    return errors.SyntaxError(f'syntax error at or near "{token_text(sql, token)}"',
                              position=token.start_pos + 1, hint=hint, detail=detail)


def _token_at(tokens: list[Token], start: int) -> Token | None:
    """The token starting at `start` (binary search: tokens are in text order)."""
    lo, hi = 0, len(tokens)
    while lo < hi:
        mid = (lo + hi) // 2
        if tokens[mid].start_pos < start:
            lo = mid + 1
        else:
            hi = mid
    if lo < len(tokens) and tokens[lo].start_pos == start:
        return tokens[lo]
    return None


def from_token_error(sql: str, tokens: list[Token], err: TokenError) -> errors.Error:
    """The error the transformer detected at a token."""
    cls = err.error_class or errors.SyntaxError
    token = _token_at(tokens, err.start) if err.start >= 0 else None
    if err.message is None:
        if token is None and 0 <= err.start < len(sql):
            return errors.SyntaxError(f'syntax error at or near "{sql[err.start:][:_NEAR_MAX]}"',
                                      position=err.start + 1, hint=err.hint)
        return syntax_error(sql, token, hint=err.hint, detail=err.detail)
    position = err.start + 1 if err.start >= 0 else None
    return cls(err.message, position=position, hint=err.hint, detail=err.detail)


def from_unexpected(sql: str, seen: list[Token], err,
                    keywords: frozenset[str]) -> errors.SyntaxError:
    """The error for a token the parser did not expect (a driver.ParseError: err.token,
    None at the end of the statement), `seen` the statement's tokens."""
    token = err.token
    if token is None:
        before = seen
        token = err.terminator  # the `;` ending the statement, or None: end of input
    else:
        before = seen[:-1]
    previous = before[-1] if before else None
    hint = _hint(sql, before, token, previous, err.expected, keywords)
    return syntax_error(sql, token, hint=hint)


def _hint(sql, before, token, previous, expected, keywords) -> str | None:
    """A hint for the likely mistake, or None."""
    if token is None or token.type == "SEMICOLON":
        depth = sum(1 for t in before if t.type == "LPAR") - sum(
            1 for t in before if t.type == "RPAR")
        if depth > 0:
            return f"{depth} parenthes{'es are' if depth > 1 else 'is is'} not closed."
        return None
    text = token_text(sql, token)
    if previous is not None and previous.type == "COMMA" and token.type in _CLAUSE_KEYWORDS:
        return f'Is the comma before "{text}" one too many?'
    if token.type == "RPAR" and sum(1 for t in before if t.type == "LPAR") <= sum(
            1 for t in before if t.type == "RPAR"):
        return 'This ")" closes no parenthesis.'
    if (token.type in keywords and token.type not in _NOT_A_NAME
            and ("IDENT" in expected or "QIDENT" in expected)):
        return (f'"{text}" is a reserved keyword here; write it in double quotes '
                f'("{token.lower()}") to use it as a name.')
    if token.type == "IDENT":
        guess = _closest(text.upper(), [t for t in expected if t in keywords])
        if guess:
            return f"Perhaps you meant {guess}."
    if previous is not None and previous.type == "IDENT":  # a misspelt keyword read as a name
        guess = _closest(token_text(sql, previous).upper(), _CLAUSE_KEYWORDS - {"RPAR"})
        if guess:
            return f'Perhaps "{token_text(sql, previous)}" should be {guess}.'
    return None


def _closest(word: str, candidates) -> str | None:
    """The candidate keyword one or two edits (insertion, deletion, substitution or swap of
    neighbours) from a misspelt `word`, preferring the same length."""
    limit = 1 if len(word) <= 4 else 2
    best = None
    for cand in candidates:
        d = _edit_distance(word, cand)
        if d <= limit:
            key = (d, abs(len(cand) - len(word)), cand)
            best = min(best, key) if best else key
    return best[2] if best else None


def _edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent transpositions)."""
    prev2, prev = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]
