"""AST modules to a checked Program: declarations, bodies, and whole-program checks."""

from __future__ import annotations

from gilcheck.diagnostics import DiagnosticSink, Label, did_you_mean
from gilcheck.semantics import ir
from gilcheck.semantics.lower import BodyLowerer
from gilcheck.semantics.resolve import Declarations, collect
from gilcheck.source import Span
from gilcheck.sync import registry
from gilcheck.syntax import ast

BLOCKING = (
    ir.Recv,
    ir.Send,
    ir.Acquire,
    ir.Wait,
    ir.Join,
    ir.Print,
    ir.GilEnter,
    ir.PythonEnter,
    ir.AllowExit,
    ir.AcquireGil,
    ir.OnceBegin,
    ir.Await,
    ir.ForkBegin,
)


def analyze(modules: list[ast.Module]) -> ir.Program:
    """Resolve, check and lower a spec (the first module) with the models it uses."""
    sink = DiagnosticSink()
    decls, folder = collect(modules, sink)
    codes: list[ir.CodeUnit] = []
    lowerers: list[BodyLowerer] = []

    def lower(
        name: str, kind: str, body: ast.Block, span: Span, params: tuple[ast.Ident, ...] = ()
    ) -> int:
        lowerer = BodyLowerer(decls, folder, sink, name=name, kind=kind, params=params)
        codes.append(lowerer.lower_unit(body, span))
        lowerers.append(lowerer)
        return len(codes) - 1

    function_codes = [
        (f.decl.name.name, lower(f.decl.name.name, "fn", f.decl.body, f.decl.span, f.decl.params))
        for f in decls.functions
    ]
    threads = [
        ir.ThreadInfo(
            name=t.decl.name.name,
            size=t.size,
            code=lower(t.decl.name.name, "thread", t.decl.body, t.decl.span),
            span=t.decl.span,
        )
        for t in decls.threads
    ]
    hooks = [(h.kind, lower(h.kind, h.kind, h.body, h.span)) for h in decls.hooks]
    codes.extend(_pool_workers(decls, codes))
    codes.extend(_event_loops(decls))
    when = _expect_condition(decls, folder, sink)
    _check_main(modules, decls, sink)
    _check_atomic_calls(codes, lowerers, sink)
    sink.raise_if_errors()
    expect = None
    if decls.expect is not None:
        expect = ir.Expectation(
            verdict=ir.Verdict(decls.expect.verdict.name), when=when, span=decls.expect.span
        )
    return ir.Program(
        path=modules[0].path,
        title=decls.title,
        expect=expect,
        host=decls.host,
        gil=decls.gil,
        consts=tuple(sorted((n, v) for n, v in folder.values.items() if isinstance(v, int))),
        params=tuple(decls.params),
        vars=tuple(decls.vars),
        resources=tuple(decls.resources),
        channels=tuple(decls.channels),
        threads=tuple(threads),
        codes=tuple(codes),
        functions=tuple(function_codes),
        hooks=tuple(hooks),
        uses=tuple(m.path for m in modules[1:]),
        gil_span=decls.gil_span or Span(modules[0].path, 0, 0),
        host_span=decls.host_span or Span(modules[0].path, 0, 0),
    )


def _pool_workers(decls: Declarations, codes: list[ir.CodeUnit]) -> list[ir.CodeUnit]:
    """The worker loop of each declared pool (`p.worker`, shared by an array's pools), and
    of pools made at run time, named by what they are bound to (`let ex = pool(2)`:
    `ex.worker`): take a task, run it, complete its future."""
    declared = {r.name for r in decls.resources if r.kind == "pool"}
    names = {f"{r.name}.worker": r.span for r in decls.resources if r.kind == "pool"}
    for code in codes:
        for instr in code.instrs:
            if isinstance(instr, ir.MakeObject) and instr.kind == "pool":
                names.setdefault(ir.made_pool_workers(instr, declared), instr.span)
    return [
        ir.CodeUnit(
            name=name,
            kind="worker",
            params=("pool",),
            local_names=("pool", "future", "value"),
            instrs=(
                ir.TakeTask(target=ir.LocalTarget(slot=2, name="value"), span=span),
                ir.FinishTask(span=span),
            ),
            span=span,
        )
        for name, span in names.items()
    ]


def _event_loops(decls: Declarations) -> list[ir.CodeUnit]:
    """For each declared event loop `lp`: its thread's code (`lp`, which never runs a
    statement: tasks run as its coroutines) and its tasks' code (`lp.task`: wait for the
    loop, run the function, complete the future, give the loop back)."""
    units: list[ir.CodeUnit] = []
    for info in decls.resources:
        if info.kind != "eventloop":
            continue
        units.append(
            ir.CodeUnit(
                name=info.name,
                kind="loop",
                params=(),
                local_names=(),
                instrs=(ir.LoopIdle(span=info.span),),
                span=info.span,
            )
        )
        units.append(
            ir.CodeUnit(
                name=f"{info.name}.task",
                kind="task",
                params=("loop",),
                local_names=("loop", "future", "value", "function", "arguments"),
                instrs=(
                    ir.LoopStart(target=ir.LocalTarget(slot=2, name="value"), span=info.span),
                    ir.LoopFinish(span=info.span),
                ),
                span=info.span,
            )
        )
    return units


def _expect_condition(decls: Declarations, folder: object, sink: DiagnosticSink) -> ir.Expr | None:
    if decls.expect is None or decls.expect.when is None:
        return None
    lowerer = BodyLowerer(decls, folder, sink, name="expect", kind="expect")  # type: ignore[arg-type]
    return lowerer.expr(decls.expect.when)


def _check_main(modules: list[ast.Module], decls: Declarations, sink: DiagnosticSink) -> None:
    main = [t for t in decls.threads if t.decl.name.name == "main"]
    if not main:
        path = modules[0].path
        guess = did_you_mean("main", [t.decl.name.name for t in decls.threads])
        near = next((t for t in decls.threads if t.decl.name.name == guess), None)
        sink.error(
            "missing-main",
            "the spec has no `thread main`",
            near.decl.name.span if near is not None else Span(path, 0, 0),
            help=f"did you mean `main`? (`{guess}` is not the main thread)"
            if guess
            else "add `thread main { ... }`: the program's main thread",
        )
    elif main[0].size is not None:
        sink.error(
            "invalid-statement",
            "`main` cannot be a thread array",
            main[0].decl.name.span,
            help="write `thread main { ... }` and another `thread worker[N] { ... }`",
        )


def _check_atomic_calls(
    codes: list[ir.CodeUnit], lowerers: list[BodyLowerer], sink: DiagnosticSink
) -> None:
    """A call inside `atomic` is allowed only to a function that cannot block or loop."""
    blocking: dict[int, bool] = {}

    def can_block(index: int, seen: frozenset[int]) -> bool:
        if index in blocking:
            return blocking[index]
        if index in seen:
            return True  # recursion: unbounded
        code = codes[index]
        result = False
        for pos, instr in enumerate(code.instrs):
            if (
                isinstance(instr, BLOCKING)
                or (isinstance(instr, ir.Jump) and instr.target <= pos)
                or (
                    isinstance(instr, ir.SyncOp)
                    and registry.verb(instr.resource.kind, instr.verb).blocks
                )
            ):
                result = True
            elif isinstance(instr, ir.CallFn):
                result = can_block(instr.function, seen | {index})
            if result:
                break
        blocking[index] = result
        return result

    function_code = {i: i for i in range(len(codes))}
    for lowerer in lowerers:
        for fn_index, span in lowerer.atomic_calls:
            code_index = function_code.get(fn_index, fn_index)
            if can_block(code_index, frozenset()):
                sink.error(
                    "blocking-in-atomic",
                    f"`{codes[code_index].name}` can block or loop, so it cannot be called "
                    "inside `atomic`",
                    span,
                    labels=(Label(codes[code_index].span, "defined here"),),
                    help="an `atomic` block runs as one step",
                )
