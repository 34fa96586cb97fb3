"""Decide, write, decide again on refusal (lambdas.domain.decide_again), shared by record reply and
record feedback: bounded, and always deciding on the items the refusal handed back."""

from lambdas.domain.decide_again import DECIDE_ATTEMPTS, Refused, decide_and_write


def test_a_written_decision_settles_at_once():
    writes = []
    settled = decide_and_write(1, lambda n: n * 10, lambda d: True, lambda d, n: writes.append(d))
    assert (settled.decision, settled.items, settled.written) == (10, 1, True)
    assert writes == [10]


def test_a_refusal_is_decided_again_on_the_items_it_returned():
    decided_on = []

    def decide(items):
        decided_on.append(items)
        return items

    refusals = iter([Refused("as another writer left it")])
    settled = decide_and_write("as read", decide, lambda d: True, lambda d, items: next(refusals, None))
    assert decided_on == ["as read", "as another writer left it"]
    assert settled.written and settled.items == "as another writer left it"


def test_a_decision_that_writes_nothing_is_not_written():
    settled = decide_and_write("dup", lambda items: None, lambda d: d is not None, lambda d, i: 1 / 0)
    assert settled is not None and not settled.written and settled.decision is None


def test_contention_is_bounded():
    calls = []
    settled = decide_and_write(0, lambda n: n, lambda d: True, lambda d, n: calls.append(n) or Refused(n + 1))
    assert settled is None
    assert calls == list(range(DECIDE_ATTEMPTS))
