"""Control flow over data the draft cannot see: `if`/`match` become choices (or exact
tests of a received message, a failed send, modelled mutex data), loops over channels
become `for v in rx`, other loops run at most `unroll` times, literal ranges unroll."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from tree_sitter import Node

from gilcheck.draft.rust import guards
from gilcheck.draft.rust.context import Ctx, Scope, Val
from gilcheck.draft.rust.kinds import GIL, Binding, Kind
from gilcheck.draft.rust.parse import named, text, unwrap_parens

if TYPE_CHECKING:
    from gilcheck.draft.rust.translate import Drafter


def choose(
    d: Drafter, ctx: Ctx, node: Node, branches: list[Node | None], target: str | None, ret: bool
) -> None:
    """`choose { a } or { b }` over branches the draft cannot decide between."""
    ctx.body.open("choose", ctx.where(node))
    state = guards.Branches(ctx)
    for i, branch in enumerate(branches):
        if i:
            state.next()
            ctx.body.close("or")
        if branch is None:
            ctx.body.stmt("skip", ctx.where(node))
        else:
            d.block(ctx, branch, target, ret)
    state.done()
    ctx.body.close()


def if_(d: Drafter, ctx: Ctx, node: Node, target: str | None, ret: bool) -> None:
    """`if` on data the draft cannot evaluate is a choice; `if let Some(v) = rx.recv()`
    tests the message."""
    cond = node.child_by_field_name("condition")
    cons = node.child_by_field_name("consequence")
    alt = node.child_by_field_name("alternative")
    alt_block = named(alt)[0] if alt is not None and named(alt) else None
    if cond is not None and cond.type == "let_condition":
        pat = cond.child_by_field_name("pattern")
        val = d.value(ctx, cond.child_by_field_name("value") or cond)
        if val.stmt and val.text.startswith(("recv ", "try_recv ")):
            tmp = d.hoist(ctx, cond, val, "msg")
            ctx.body.open(f"if not is_none({tmp.text})", ctx.where(node))
            scope = Scope()
            for n in d._pattern_vars(pat) if pat is not None else []:
                scope.vars[n] = Binding(Kind.UNKNOWN, (tmp.text,))
            if cons is not None:
                d.block(ctx, cons, target, ret, scope=scope)
            if alt_block is not None:
                ctx.body.close("else")
                d.block(ctx, alt_block, target, ret)
            ctx.body.close()
            return
        word = val.text.split(" ", 1)[0] if val.stmt else ""
        tmp = d.hoist(ctx, cond, val)
        shape = text(pat).split("(", 1)[0].strip() if pat is not None else ""
        g = val.guard
        if g is not None and g.target != GIL and g in ctx.temps and shape in ("Ok", "Some"):
            # `if let Ok(guard) = m.lock()`: held to the end of the `if` (a poisoned lock
            # is not modelled)
            _held_through(d, ctx, node, g, pat, cons, target, ret)
            return
        # the temporaries of the value (`if let Some(x) = m.lock().unwrap().pop()`) live
        # to the end of the whole `if`/`else` (edition 2021), or of its `then` block
        # (edition 2024): a guard among them is held there
        kept = [g for g in ctx.temps if g.target != GIL and not g.released]
        ctx.temps = [g for g in ctx.temps if g not in kept]
        guards.flush_temps(d, ctx, node)
        late = d.edition != "2024"
        if late and kept:
            ctx.scopes.append(Scope(guards=kept))
        two = _Branches2(d, ctx, node, target, ret, [] if late else kept)
        _if_let(d, ctx, node, val, tmp, word, shape, pat, cons, alt_block, two)
        if late and kept:
            ctx.scopes.pop()
            guards.release_all(d, ctx, kept, guards.end_of(d, ctx, node))
        return
    pure = d.pure_condition(ctx, cond) if cond is not None else None
    if pure is not None and text(cond) not in ("true", "false"):
        ctx.body.open(f"if {pure}", ctx.where(node))
        if cons is not None:
            d.block(ctx, cons, target, ret)
        if alt_block is not None:
            ctx.body.close("else")
            d.block(ctx, alt_block, target, ret)
        ctx.body.close()
        return
    if cond is not None:
        if text(cond) in ("true", "false"):
            chosen = cons if text(cond) == "true" else alt_block
            if chosen is not None:
                d.block(ctx, chosen, target, ret)
            return
        val = d.value(ctx, cond)
        if val.stmt:
            d.stmt(ctx, cond, val.text)
        guards.flush_temps(d, ctx, node)
    choose(d, ctx, node, [cons, alt_block], target, ret)


class _Branches2:
    """The `then` and `else` of an `if let`: with edition 2024 the guards of its value
    are held to the end of `then` and released before `else`."""

    def __init__(
        self, d: Drafter, ctx: Ctx, node: Node, target: str | None, ret: bool, early: list[Binding]
    ) -> None:
        self.d, self.ctx, self.node, self.target, self.ret = d, ctx, node, target, ret
        self.early = early
        self.state = guards.Branches(ctx)

    def then(self, block: Node | None, scope: Scope | None = None) -> None:
        scope = scope or Scope()
        scope.guards = [*self.early, *scope.guards]
        if block is not None:
            self.d.block(self.ctx, block, self.target, self.ret, scope=scope)
        else:
            guards.release_all(self.d, self.ctx, self.early, self.ctx.where(self.node))
        self.state.next()

    def else_(self, block: Node | None, opener: str | None) -> None:
        """The `else` branch (`opener` closes the `then` as `else` or `or`; None: the
        `if` has no else, and needs one only to release guards)."""
        if block is None and not self.early and opener != "or":
            self.state.done()
            return
        self.ctx.body.close(opener or "else")
        for g in self.early:
            g.released = False
        guards.release_all(self.d, self.ctx, self.early, self.ctx.where(self.node))
        if block is not None:
            self.d.block(self.ctx, block, self.target, self.ret)
        elif not self.early:
            self.ctx.body.stmt("skip", self.ctx.where(self.node))
        self.state.done()


def _held_through(
    d: Drafter,
    ctx: Ctx,
    node: Node,
    g: Binding,
    pat: Node | None,
    body: Node | None,
    target: str | None,
    ret: bool,
) -> None:
    """A lock's guard taken by the value of an `if let`/`match` and bound by `pat`: held
    to the end of `body` (a poisoned lock is not modelled)."""
    ctx.temps.remove(g)
    guards.flush_temps(d, ctx, node)
    scope = Scope(guards=[g])
    for n in d._pattern_vars(pat) if pat is not None else []:
        scope.vars[n] = g
    if body is not None:
        d.block(ctx, body, target, ret, scope=scope)
    else:
        guards.release_all(d, ctx, [g], ctx.where(node))


def _if_let(
    d: Drafter,
    ctx: Ctx,
    node: Node,
    val: Val,
    tmp: Val,
    word: str,
    shape: str,
    pat: Node | None,
    cons: Node | None,
    alt_block: Node | None,
    two: _Branches2,
) -> None:
    """`if let` on a value that is not a message received: the success path of what the
    model cannot see fail, a send's result, a result the draft made, or a choice."""
    if word in ("spawn", "join", "call_once") or val.guard is not None:
        # what the model cannot see fail (a thread not starting, a poisoned lock)
        # takes the success path
        if shape in ("Ok", "Some"):
            two.then(cons)
        else:
            for g in two.early:
                g.released = False
            guards.release_all(d, ctx, two.early, ctx.where(node))
            if alt_block is not None:
                d.block(ctx, alt_block, two.target, two.ret)
        return
    if word == "send" and shape in ("Ok", "Err"):
        test = "is_ok" if shape == "Ok" else "is_err"
        ctx.body.open(f"if {test}({tmp.text})", ctx.where(node))
        two.then(cons)
        two.else_(alt_block, None)
        ctx.body.close()
        return
    scope = Scope()
    for n in d._pattern_vars(pat) if pat is not None else []:
        scope.vars[n] = Binding(tmp.kind, (tmp.text,) if tmp.text != "none" else ())
    if shape in ("Ok", "Err") and tmp.names:  # `if let Err(e) = f()`: as the value is
        arm = result_arm(d, ctx, node, tmp.text)
        ctx.body.open(f"if {arm} == {1 if shape == 'Err' else 0}", ctx.where(node))
        two.then(cons, scope)
        two.else_(alt_block, None)
        ctx.body.close()
        return
    ctx.body.open("choose", ctx.where(node))
    two.then(cons, scope)
    two.else_(alt_block, "or")
    ctx.body.close()


def match(d: Drafter, ctx: Ctx, node: Node, target: str | None, ret: bool) -> None:
    """`match` on data: a choice among its arms (a message received: tested)."""
    scrut = node.child_by_field_name("value")
    val = d.value(ctx, scrut) if scrut is not None else Val.none()
    tmp = d.hoist(ctx, node, val, "msg") if val.guard is None else Val.none()
    body = node.child_by_field_name("body")
    arms = [a for a in named(body)] if body is not None else []
    arms = [a for a in arms if a.type == "match_arm"]
    g = val.guard
    if g is not None and g.target != GIL and g in ctx.temps and arms:
        # `match m.lock() { Ok(guard) => .., Err(_) => .. }`: a poisoned lock is not
        # modelled, so the `Ok` arm runs, holding the guard to its end
        ok = next((a for a in arms if _shape(a.child_by_field_name("pattern")) == "Ok"), arms[0])
        pat = ok.child_by_field_name("pattern")
        _held_through(d, ctx, node, g, pat, ok.child_by_field_name("value"), target, ret)
        return
    # the scrutinee's temporaries (`match m.lock().unwrap().pop()`) live to the end of the
    # `match`: a guard among them is held through the arms
    kept = [g for g in ctx.temps if g.target != GIL and not g.released]
    ctx.temps = [g for g in ctx.temps if g not in kept]
    guards.flush_temps(d, ctx, node)
    if not arms:
        guards.release_all(d, ctx, kept, ctx.where(node))
        return
    ctx.scopes.append(Scope(guards=kept))
    _arms(d, ctx, node, val, tmp, arms, target, ret)
    ctx.scopes.pop()
    guards.release_all(d, ctx, kept, guards.end_of(d, ctx, node))


def _arms(
    d: Drafter,
    ctx: Ctx,
    node: Node,
    val: Val,
    tmp: Val,
    arms: list[Node],
    target: str | None,
    ret: bool,
) -> None:
    """The arms of a `match` on data: tested when the draft knows the value, else a
    choice."""
    received = val.stmt and val.text.startswith(("recv ", "try_recv "))
    if received and len(arms) == 2:
        firsts = [text(a.child_by_field_name("pattern")) for a in arms]
        some = next((i for i, p in enumerate(firsts) if p.startswith(("Some", "Ok"))), None)
        if some is not None:
            other = 1 - some
            ctx.body.open(f"if not is_none({tmp.text})", ctx.where(node))
            state = guards.Branches(ctx)
            match_arm(d, ctx, arms[some], tmp, target, ret)
            state.next()
            ctx.body.close("else")
            match_arm(d, ctx, arms[other], tmp, target, ret)
            state.done()
            ctx.body.close()
            return
    shapes = [_shape(a.child_by_field_name("pattern")) for a in arms]
    guarded = any(_guard(a) is not None for a in arms)
    if not received and not guarded and tmp.names and len(arms) == 2 and "Err" in shapes:
        # `match f() { Ok(v) => .., Err(e) => .. }`: the arm the value takes
        err = shapes.index("Err")
        if shapes[1 - err] in ("Ok", "_"):
            pick = result_arm(d, ctx, node, tmp.text)
            ctx.body.open(f"if {pick} == 1", ctx.where(node))
            state = guards.Branches(ctx)
            match_arm(d, ctx, arms[err], tmp, target, ret)
            state.next()
            ctx.body.close("else")
            match_arm(d, ctx, arms[1 - err], tmp, target, ret)
            state.done()
            ctx.body.close()
            return
    if len(arms) == 1:
        match_arm(d, ctx, arms[0], tmp, target, ret)
        return
    ctx.body.open("choose", ctx.where(node))
    state = guards.Branches(ctx)
    for i, arm in enumerate(arms):
        if i:
            state.next()
            ctx.body.close("or")
        match_arm(d, ctx, arm, tmp, target, ret)
    state.done()
    ctx.body.close()


def _shape(pat: Node | None) -> str:
    """`Ok`, `Err`, `Some`, `None`, `_` or `` for a match pattern."""
    if pat is None:
        return ""
    head = text(pat).split("(", 1)[0].strip()
    head = head.rsplit("::", 1)[-1]
    return head if head in ("Ok", "Err", "Some", "None", "_") else ""


def result_arm(d: Drafter, ctx: Ctx, node: Node, value: str) -> str:
    """A local that is 1 (the `Err` arm) when `value` is an `err(..)` the draft made, and
    either 0 or 1 otherwise: `?` is drafted on its success path only, so a value drafted
    as `ok(..)` may still be an error in the program."""
    arm = d.spec.names.fresh("arm")
    where = ctx.where(node)
    ctx.body.stmt(f"let {arm} = 1", where)
    ctx.body.open(f"if not is_err({value})", where)
    ctx.body.stmt(f"{arm} = any(0..2)", where)
    ctx.body.close()
    return arm


def match_arm(d: Drafter, ctx: Ctx, arm: Node, tmp: Val, target: str | None, ret: bool) -> None:
    pat = arm.child_by_field_name("pattern")
    scope = Scope()
    for n in d._pattern_vars(pat) if pat is not None else []:
        scope.vars[n] = Binding(tmp.kind, (tmp.text,) if tmp.text != "none" else ())
    guard = _guard(arm)
    if guard is not None:  # `Ok(v) if check(v) =>`: the guard is evaluated first
        ctx.scopes.append(scope)
        v = d.value(ctx, guard)
        if v.stmt:
            d.stmt(ctx, guard, v.text)
        guards.flush_temps(d, ctx, guard)
        ctx.scopes.pop()
    value = arm.child_by_field_name("value")
    if value is not None:
        d.block(ctx, value, target, ret, scope=scope)


def _guard(arm: Node) -> Node | None:
    """The `if` guard of a match arm, if any."""
    pat = arm.child_by_field_name("pattern")
    return pat.child_by_field_name("condition") if pat is not None else None


def while_(d: Drafter, ctx: Ctx, node: Node) -> None:
    """`while let Some(x) = rx.recv()` is `for x in rx`; other loops over data run at
    most `unroll` times."""
    cond = node.child_by_field_name("condition")
    body = d._body_of(node)
    if cond is not None and cond.type == "let_condition":
        pat = cond.child_by_field_name("pattern")
        found = d.calls.receiver_of(ctx, cond.child_by_field_name("value"))
        if found is not None and pat is not None and text(pat).startswith(("Some", "Ok")):
            rx, element = found
            names = d._pattern_vars(pat)
            var = d.local(ctx, names[0]) if names else d.spec.names.fresh("msg")
            scope = Scope(loop=True)
            for n in names:
                scope.vars[n] = Binding(element, (var,))
            ctx.body.open(f"for {var} in {rx}", ctx.where(node))
            d.block(ctx, body, scope=scope)
            ctx.body.close()
            return
    if cond is not None and text(cond) == "true":
        ctx.body.open("loop", ctx.where(node))
        d.block(ctx, body, loop=True)
        ctx.body.close()
        return
    pure = d.pure_condition(ctx, cond) if cond is not None else None
    if pure is not None:
        ctx.body.open(f"while {pure}", ctx.where(node))
        d.block(ctx, body, loop=True)
        ctx.body.close()
        return
    test = cond
    bound: list[str] = []
    if cond is not None and cond.type == "let_condition":
        test = cond.child_by_field_name("value")
        pat = cond.child_by_field_name("pattern")
        bound = d._pattern_vars(pat) if pat is not None else []
    bounded(d, ctx, node, body, bound, "{code} runs at most {n} times", test=test)


def bounded(
    d: Drafter,
    ctx: Ctx,
    node: Node,
    body: Node | None,
    names: list[str],
    what: str,
    run: Callable[[], None] | None = None,
    test: Node | None = None,
    given: Val | None = None,
    closure: bool = False,
) -> None:
    """A loop over data the draft cannot evaluate: 0 to `unroll` iterations (an
    assumption)."""
    n = d.options.unroll
    head = text(node).split("{", 1)[0].strip()
    d.spec.writer.assume(ctx.where(node), what.format(code=f"`{' '.join(head.split())}`", n=n))
    count = d.spec.names.fresh("iter")
    d.stmt(ctx, node, f"let {count} = 0")
    ctx.body.open(f"while {count} < {n}", ctx.where(node))
    ctx.body.stmt(f"{count} = {count} + 1", ctx.where(node))
    tested = given  # what the closure's parameters stand for, when the draft knows
    kept: list[Binding] = []
    if test is not None:  # `while f()`, `while let Some(x) = q.lock().unwrap().pop()`
        outer, ctx.temps = ctx.temps, []
        tested = d.hoist(ctx, test, d.value(ctx, test))
        if names:  # a `while let` keeps the temporaries of its value through the body
            kept = [g for g in ctx.temps if g.target != GIL and not g.released]
            ctx.temps = [g for g in ctx.temps if g not in kept]
        guards.flush_temps(d, ctx, test)
        ctx.temps = outer
    ctx.body.open("choose", ctx.where(node))
    ctx.body.stmt("skip", ctx.where(node))
    ctx.body.close("or")
    for g in reversed(kept):
        ctx.body.stmt(f"release {g.target}", ctx.where(node))
    ctx.body.stmt("break", ctx.where(node))
    ctx.body.close()
    # guards kept are released at the body's end, or a jump; in a closure's body a
    # `return` goes on with the next element
    scope = Scope(loop=True, guards=list(kept), closure=closure)
    for name in names:
        if tested is not None and tested.names:
            scope.vars[name] = Binding(tested.kind, tested.names)
            continue
        spec = d.local(ctx, name)
        ctx.body.stmt(f"let {spec} = none", ctx.where(node))
        scope.vars[name] = Binding(Kind.UNKNOWN, (spec,), extra=["element"])
    if body is not None:
        d.block(ctx, body, scope=scope)
    elif run is not None:
        ctx.scopes.append(scope)
        run()
        ctx.scopes.pop()
    ctx.body.close()


def for_(d: Drafter, ctx: Ctx, node: Node) -> None:
    """`for x in rx` / `rx.iter()` / `&rx`: receive until closed; over join handles:
    each; over a small literal range: unrolled; over other data: bounded."""
    pat = node.child_by_field_name("pattern")
    value = node.child_by_field_name("value")
    body = d._body_of(node)
    names = d._pattern_vars(pat) if pat is not None else []
    found = d.calls.receiver_of(ctx, value) if value is not None else None
    if found is not None:
        rx, element = found
        var = d.local(ctx, names[0]) if names else d.spec.names.fresh("msg")
        scope = Scope(loop=True)
        for n in names:
            scope.vars[n] = Binding(element, (var,))
        ctx.body.open(f"for {var} in {rx}", ctx.where(node))
        d.block(ctx, body, scope=scope)
        ctx.body.close()
        return
    src = unwrap_parens(value) if value is not None else None
    while (
        src is not None
        and src.type == "call_expression"
        and text(src.child_by_field_name("function")).endswith(
            (".into_iter", ".iter", ".drain", ".iter_mut")
        )
    ):
        fn = src.child_by_field_name("function")
        src = fn.child_by_field_name("value") if fn is not None else None
    if src is not None and src.type == "identifier":
        b = ctx.lookup(text(src))
        if b is not None and b.kind == Kind.HANDLES:
            for h in b.names:
                scope = Scope()
                for n in names:
                    scope.vars[n] = Binding(Kind.HANDLE, (h,))
                d.block(ctx, body, scope=scope)
            return
    if src is not None and src.type == "range_expression":
        parts = [text(c) for c in named(src)]
        if len(parts) == 2 and all(re.fullmatch(r"\d+", p) for p in parts):
            lo, hi = int(parts[0]), int(parts[1])
            if "..=" in text(src):
                hi += 1
            if hi - lo <= 8:
                for k in range(lo, hi):
                    scope = Scope(loop=True, unrolled=True)
                    ctx.body.open("loop", ctx.where(node))
                    for n in names:
                        spec = d.local(ctx, n)
                        d.stmt(ctx, node, f"let {spec} = {k}")
                        scope.vars[n] = Binding(Kind.PLAIN, (spec,))
                    d.block(ctx, body, scope=scope)
                    ctx.body.stmt("break", ctx.where(node))
                    ctx.body.close()
                return
    kept: list[Binding] = []
    if value is not None:  # `for x in m.lock().unwrap().iter()`: the guard lives to the end
        outer, ctx.temps = ctx.temps, []
        v = d.value(ctx, value)
        if v.stmt:
            d.stmt(ctx, value, v.text)
        kept, ctx.temps = ctx.temps, outer
        ctx.scopes[-1].guards.extend(kept)
    bounded(d, ctx, node, body, names, "{code} runs at most {n} times")
    for g in kept:
        ctx.scopes[-1].guards.remove(g)
    guards.release_all(d, ctx, kept, guards.end_of(d, ctx, node))
