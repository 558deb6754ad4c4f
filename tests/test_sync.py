"""The sync primitives on their own: steps, symmetry maps, texts, and the registry's check."""

from __future__ import annotations

import pytest

from gilcheck.sync import registry
from gilcheck.sync.base import NO_THREAD, SAME, SKIP, STAY, Misuse, Moved, Site
from gilcheck.sync.registry import RegistryError, _check


def site(kind: str, verb: str, **extra: object) -> Site:
    return Site(verb=registry.verb(kind, verb), name="x", **extra)  # type: ignore[arg-type]


def test_every_kind_in_the_grammar_has_one_primitive() -> None:
    assert set(registry.LISTED) == set(registry.KINDS)
    assert registry.kinds_accepting("wait")[:3] == ("condvar", "event", "barrier")


def test_the_registry_refuses_a_kind_without_primitive_or_twice() -> None:
    grammar = '!resource_kind: "mutex" | "spinlock"\n'
    with pytest.raises(RegistryError, match="spinlock"):
        _check(registry.PRIMITIVES, grammar)
    with pytest.raises(RegistryError, match="more than one"):
        _check((*registry.PRIMITIVES, registry.PRIMITIVES[0]), grammar)


def test_mutex_blocks_when_held_and_release_of_a_free_one_is_a_misuse() -> None:
    acquire, release = site("mutex", "acquire"), site("mutex", "release")
    assert acquire.step(NO_THREAD, 3, 0, None) == (Moved(3),)
    assert acquire.step(1, 3, 0, None) == ()
    assert isinstance(release.step(NO_THREAD, 3, 0, None), Misuse)
    assert release.step(1, 3, 0, None) == (Moved(NO_THREAD),)  # any thread may release


def test_condvar_wait_releases_the_rlock_entirely_and_takes_it_back() -> None:
    rlock = registry.primitive("rlock")
    wait = site("condvar", "wait", partner=rlock, partner_name="r")
    ((first,),) = [wait.step(((), ()), 2, 0, (2, 3))]
    assert first == Moved(((2,), ()), ("cv", 3), STAY, 0, (NO_THREAD, 0))
    assert wait.step(((2,), ()), 2, ("cv", 3), (NO_THREAD, 0)) == ()  # not notified yet
    notify = site("condvar", "notify")
    assert len(notify.step(((1, 2), ()), 0, 0, None)) == 2  # either waiter may wake
    (back,) = wait.step(((), (2,)), 2, ("cv", 3), (NO_THREAD, 0))
    assert isinstance(back, Moved)
    assert back.partner == (2, 3) and back.obj == ((), ()) and back.choice == 1
    assert isinstance(wait.step(((), ()), 2, 0, (1, 1)), Misuse)  # without holding it


def test_once_skips_its_block_when_done_and_says_so() -> None:
    once = registry.primitive("once")
    call = site("once", "call_once")
    assert call.step((2, NO_THREAD), 1, 0, None) == (Moved((2, NO_THREAD), advance=SKIP),)
    assert call.step((1, 0), 1, 0, None) == ()
    assert once.quiet_effect("call_once", "o") == "once o has already run: skips the block"


def test_barrier_opens_for_the_last_party() -> None:
    wait = site("barrier", "wait", count=2)
    assert wait.step((0, 0, 0), 0, 0, None) == (Moved((1, 0, 0), ("barrier", 0), STAY),)
    assert wait.step((1, 0, 0), 1, 0, None) == (Moved((0, 1, 1)),)  # one waiter to leave
    assert wait.step((0, 1, 1), 0, ("barrier", 0), None) == (Moved((0, 1, 0), choice=1),)


def test_barrier_drains_before_it_fills_again() -> None:
    """A thread arriving before the last opening's waiters have left waits (CPython's
    Barrier), so a waiter never misses its opening (the generation is kept modulo 2)."""
    wait = site("barrier", "wait", count=2)
    assert wait.step((0, 1, 1), 2, 0, None) == ()  # arrives while w0 has not left
    assert wait.step((0, 1, 1), 0, ("barrier", 1), None) == ()  # its generation: waits


def test_remaps_move_every_thread_id_and_keep_canonical_order() -> None:
    def swap(t: int) -> int:
        return {0: 1, 1: 0}.get(t, t)

    assert registry.primitive("mutex").remap(0, swap) == 1
    assert registry.primitive("mutex").remap(NO_THREAD, swap) == NO_THREAD
    assert registry.primitive("condvar").remap(((0, 2), (1,)), swap) == ((1, 2), (0,))
    assert registry.primitive("rwlock").remap((0, (1, 1), ()), swap) == (1, (0, 0), ())
    assert registry.primitive("semaphore").remap(2, swap) == 2


def test_texts_for_narration_snapshots_and_waits() -> None:
    def name(t: int) -> str:
        return f"t{t}"

    rwlock = registry.primitive("rwlock")
    assert rwlock.effect((NO_THREAD, (), ()), (1, (), ()), 1, "l", name) == (
        "takes the write lock on l"
    )
    assert rwlock.show((NO_THREAD, (0, 1), (2,)), name) == (
        ("t0", "t1"),
        "read by t0, t1; writers waiting: t2",
    )
    assert registry.primitive("rlock").holds((1, 2), 1, "r") == "r"
    assert registry.primitive("condvar").quiet_effect("notify", "cv") == (
        "notifies cv: no thread waits, so the notify is lost"
    )
    assert SAME is not None
