"""Leaving code by an exception (`raise`, `sys.exit()`, a drafted call that raised): a
function runs its `finally` blocks and returns `err("raised")`, which its callers test
to leave in turn; the module's top-level code sets `raised` and runs the rest of each
enclosing block only while it is false. Inside a `try:` with handlers the exception is
caught: the handlers are drafted as choices after the body.

Implicit exceptions: while code (a function, or the main module's code) holds a lock it
took with `acquire()` (not a `with`, whose exit always runs), whatever can raise may
leave it there (`calls.may_raise`, a `choose` between going on and raising): an
unknown call, a builtin that rejects bad data (`int("x")`), an item not surely there
(`cfg["k"]`, `items[5]`), an attribute of an object the draft does not know or one its
class lacks, a division by a divisor not known to be non-zero, an `assert` whose
condition the draft cannot compute. In a function that goes on, later in its text and
outside a `finally`, to a `set()`, `release()`, `notify()`, `notify_all()` or
`task_done()` (which a raise would skip), the implicit ones among these (the builtins,
items, attributes an object's class lacks, divisions) may raise too. Elsewhere they
are drafted as going on, so drafts of programs without these shapes do not change."""

from __future__ import annotations

import ast

from gilcheck.draft.python.state import State

RAISED = 'err("raised")'


def raise_here(st: State, node: ast.AST) -> None:
    """An exception leaves the code at this point (the rest of the block is dead)."""
    f = st.f
    if f.handlers > 0 or (f.in_fork and f.depth == f.fork_depth):
        f.dead = True  # caught here, or the end of a fork child
        return
    if f.func is not None:
        from gilcheck.draft.python import stmts

        stmts.run_finally_blocks(st)
        st.out(f"return {RAISED}", node)
        f.raises = True
        f.dead = True
        return
    _top_level_raised(st, node)
    f.dead = True


def after_call(st: State, result: str, node: ast.AST) -> None:
    """After a call of a function that may raise: leave too when it did."""
    f = st.f
    if f.handlers > 0:
        return
    if f.func is not None:
        from gilcheck.draft.python import stmts

        with st.block(f"if is_err({result})", node):
            stmts.run_finally_blocks(st)
            st.out(f"return {result}", node)
        f.raises = True
        return
    with st.block(f"if is_err({result})", node):
        _top_level_raised(st, node)


def _top_level_raised(st: State, node: ast.AST) -> None:
    f = st.f
    if f.raised_var is None:
        f.raised_var = f.namer.fresh("raised")
        f.hoisted_values[f.raised_var] = "false"
        f.hoisted.append(f.raised_var)
        f.declared.add(f.raised_var)
    st.out(f"{f.raised_var} = true", node)
    f.raise_epoch += 1


def guard_rest(st: State) -> str | None:
    """The condition the rest of a top-level block runs under, once code in it may have
    raised."""
    return f"not {st.f.raised_var}" if st.f.raised_var else None
