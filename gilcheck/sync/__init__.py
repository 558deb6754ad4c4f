"""Sync objects, one module per kind (mutex, rlock, semaphore, rwlock, event, barrier,
condvar, once, latch), each a `Primitive` (base.py) registered in registry.py.

A primitive answers every question about its kind: the state of a new object, what each of
its statements does (blocked, moved, or a misuse), how a permutation of thread ids maps its
state, who holds it, why a thread waits on it, and how a step or a snapshot shows it. The
engine, symmetry reduction, wait-for explanations, narration and snapshots ask it.

To add a kind of sync object:
1. write `gilcheck/sync/<kind>.py` with a `PRIMITIVE` implementing `base.Primitive` (its
   statements as `Verb`s: the step, the kinds of a second operand, whether it blocks);
2. add it at the end of `PRIMITIVES` in registry.py;
3. in syntax/grammar.lark, name the kind in `DECL_KIND` (a keyword only at the start of a
   declaration) and any statement of its own in `SYNC_VERB` (`verb ref [, ref]`, a keyword
   only at the start of a statement followed by an operand); a statement it shares with
   other kinds (`wait`) needs nothing more. The registry checks at import that the grammar
   and the primitives agree.
"""
