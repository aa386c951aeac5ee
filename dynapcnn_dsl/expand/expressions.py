"""The `${...}` expressions of template files: a parameter name or integer arithmetic over them.

Pure: text and parameter values in, a value out (or an `ExpressionError` saying why not). The
expression is parsed by Python's own parser and walked node by node; only names, integer
constants, parentheses, unary minus and + - * // % are understood, so nothing is ever called.
Every integer met or computed is bounded (`LanguageLimits.int_max`) before the next step,
so no expression grows numbers without bound, and none is ever turned into text.
"""

from __future__ import annotations

import ast
import operator
import re
from functools import lru_cache
from typing import Any

from dynapcnn_dsl.chips import language_limits
from dynapcnn_dsl.suggest import did_you_mean

MAX_EXPRESSION = 200
"""Characters in one ${...}: parameters and a little arithmetic, never a program."""

EXPR = re.compile(r"\$\{([^}]*)\}")
"""One `${...}` in a template value."""

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod}


class ExpressionError(ValueError):
    """An expression that cannot be evaluated; the message says why, for the user."""


def evaluate(text: str, params: dict[str, Any]) -> Any:
    """A parameter name or integer arithmetic over them (+ - * // %, parentheses): no calls,
    no attributes, nothing else, evaluated by walking Python's own parse tree."""
    if len(text) > MAX_EXPRESSION:
        raise ExpressionError(f"an expression of {len(text)} characters is too long "
                              f"(at most {MAX_EXPRESSION})")
    tree = _parse(text)
    if tree is None:
        raise ExpressionError(f"'{text[:40]}' is not an expression")
    bound = language_limits().int_max

    def bounded(value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > bound:
            raise ExpressionError(f"'{text}' reaches an integer beyond ±{bound}, the range of "
                                  "template arithmetic")
        return value

    def walk(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return bounded(node.value)
        if isinstance(node, ast.Name):
            if node.id not in params:
                hint = did_you_mean(node.id, params)
                raise ExpressionError(f"'{node.id}' is not a parameter" + (f"; {hint}" if hint else ""))
            return bounded(params[node.id])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            value = walk(node.operand)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ExpressionError(f"'{text}': minus applies to numbers only")
            return -value  # also floats: `${-threshold}` is a natural min_v_mem
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            left, right = walk(node.left), walk(node.right)
            if not (isinstance(left, int) and isinstance(right, int)) or isinstance(left, bool) \
                    or isinstance(right, bool):
                raise ExpressionError(f"'{text}': arithmetic works on integers only")
            if isinstance(node.op, ast.FloorDiv | ast.Mod) and right == 0:
                raise ExpressionError(f"'{text}' divides by zero")
            return bounded(_OPS[type(node.op)](left, right))
        raise ExpressionError(f"'{text}' uses something other than parameters and + - * // %")

    try:
        return walk(tree)
    except RecursionError as exc:
        raise ExpressionError(f"'{text[:40]}...' is nested too deeply") from exc


def names_in(text: str) -> list[str]:
    """The parameter names an expression uses, in order."""
    return list(_names(text))


@lru_cache(maxsize=1024)
def _names(text: str) -> tuple[str, ...]:
    tree = _parse(text)
    return () if tree is None else tuple(n.id for n in ast.walk(tree) if isinstance(n, ast.Name))


@lru_cache(maxsize=1024)
def _parse(text: str) -> ast.Expression | None:
    """Python's parse tree of an expression (each distinct text parsed once), or None."""
    if len(text) > MAX_EXPRESSION:
        return None
    try:
        return ast.parse(text.strip(), mode="eval")
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return None
