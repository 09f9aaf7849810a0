"""The Lark transformer that turns grammar/sql.lark's rules into immusql.parser.ast nodes.

It is used "inline" (passed to Lark(transformer=...)), so Lark calls it at each LALR
reduction and never builds a parse tree: no tree walk, no recursion, and each callback
receives its rule's children already transformed. A callback is named after its rule or
alias and receives the list of children: named terminals (SELECT, IDENT ...) as Tokens,
None for an absent `[optional]`, and what the sub-rules' callbacks returned; quoted
keywords ("from"i) are not passed.

The callbacks live in one mixin per area; this module only assembles them. Rules that only
accept syntax (GRANT's targets, VACUUM's options ...) are inlined in the grammar and
need no callback.
"""

from __future__ import annotations

from lark import Transformer

from .cursors import CursorRules
from .exprs import ExprRules
from .functions import FunctionRules
from .operands import OperandRules
from .queries import QueryRules
from .server import ServerRules
from .session import SessionRules
from .statements import DdlRules, DmlRules
from .types import TypeRules


class AstBuilder(ExprRules, OperandRules, FunctionRules, TypeRules, QueryRules, DmlRules,
                 DdlRules, SessionRules, ServerRules, CursorRules, Transformer):
    """Builds immusql.parser.ast nodes from grammar/sql.lark; stateless, so one instance
    serves every thread."""

    def __init__(self):
        super().__init__(visit_tokens=False)
