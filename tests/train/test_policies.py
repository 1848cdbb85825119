"""Policy behaviour on constructed feedback: each policy moves the way its paper says it should."""

import numpy as np
import pytest
import torch

from gristmill.errors import UsageError
from gristmill.train.policies import DomainStats, Feedback, available_policies, make_policy
from gristmill.train.policies.base import repeat_value
from gristmill.train.policies.curve import fit_power_law

pytestmark = pytest.mark.train
DOMS = ["easy", "hard"]
NATURAL = np.array([3.0, 1.0])


def feed(policy, losses, counts=(8, 8), ref=None, step=1):
    s = DomainStats.zeros(len(losses))
    s.count[:] = counts
    s.loss_sum[:] = np.asarray(losses) * s.count
    s.loss_sq[:] = np.asarray(losses) ** 2 * s.count
    if ref is not None:
        s.ref_sum[:] = np.asarray(ref) * s.count
        s.ref_count[:] = s.count
    return policy.on_step(Feedback(step=step, stats=s, tokens_per_domain=np.zeros(len(losses))))


def test_static_weights():
    assert make_policy("uniform", DOMS, NATURAL, {}).weights.tolist() == [0.5, 0.5]
    assert make_policy("natural", DOMS, NATURAL, {}).weights.tolist() == [0.75, 0.25]
    t = make_policy("temperature", DOMS, NATURAL, {"tau": 2.0}).weights
    assert np.allclose(t, np.sqrt([0.75, 0.25]) / np.sqrt([0.75, 0.25]).sum())
    s = make_policy("static", DOMS, NATURAL, {"weights": {"easy": 0.2, "hard": 0.8}})
    assert s.weights.tolist() == [0.2, 0.8]
    assert not feed(s, [1.0, 5.0])  # static never changes


def test_odm_shifts_weight_toward_the_harder_domain():
    p = make_policy("odm", DOMS, NATURAL, {"update_every": 1})
    for t in range(50):
        feed(p, [1.0, 4.0], step=t + 1)
    assert p.weights[1] > 0.55, p.weights  # mild by design: EXP3 keeps exploring
    # and the other way round when the loss ranking flips
    q = make_policy("odm", DOMS, NATURAL, {"update_every": 1})
    for t in range(50):
        feed(q, [4.0, 1.0], step=t + 1)
    assert q.weights[0] > 0.55, q.weights


def test_cadence_warmup_then_every_n():
    p = make_policy("odm", DOMS, NATURAL, {"warmup_steps": 3, "update_every": 2})
    changed = [feed(p, [1.0, 4.0], step=t + 1) for t in range(7)]
    assert changed == [False, False, True, False, True, False, True]


def test_doremi_upweights_excess_loss_not_raw_loss():
    p = make_policy("doremi", DOMS, NATURAL, {"update_every": 1, "reference": "x"})
    for t in range(20):
        # hard has the higher loss but matches its reference; easy trails its reference
        feed(p, [2.0, 5.0], ref=[1.0, 5.0], step=t + 1)
    assert np.isclose(p.weights[1], 0.25 / 2)  # as low as the default floor of 1/(4K) allows
    assert np.allclose(p.average_weights().sum(), 1.0)
    paper = make_policy("doremi", DOMS, NATURAL, {"update_every": 1, "reference": "x", "min_weight": 0.0})
    for t in range(20):
        feed(paper, [2.0, 5.0], ref=[1.0, 5.0], step=t + 1)
    assert paper.weights[0] > 0.99  # the paper's form (smoothing only) starves the other domain


def test_fit_power_law_recovers_parameters():
    n = np.linspace(1e3, 1e5, 40)
    eps, beta, a = fit_power_law(n, 2.0 + 30.0 * n**-0.5, grid=50)
    assert abs(eps - 2.0) < 0.1 and abs(a - 0.5) < 0.1


def test_loss_curve_mixer_moves_away_from_a_flat_domain():
    p = make_policy("ado", DOMS, NATURAL, {"update_every": 1, "smoothing": 0.5})
    for t in range(1, 40):
        learning = 2.0 + 8.0 * (16.0 * t) ** -0.4
        feed(p, [learning, 5.0], step=t)  # 'hard' is flat: nothing left to learn
    assert p.weights[0] > 0.7, p.weights


def test_hard_selection_keeps_the_highest_losses():
    p = make_policy("hard", DOMS, NATURAL, {"keep_fraction": 0.5})
    loss = torch.tensor([0.1, 3.0, 0.2, 2.0])
    assert p.sample_weights(loss, torch.zeros(4, dtype=torch.long), None).tolist() == [0, 1, 0, 1]


def test_rho_selects_reducible_loss():
    p = make_policy("rho", DOMS, NATURAL, {"keep_fraction": 0.25, "reference": "x"})
    loss = torch.tensor([5.0, 3.0, 1.0, 0.5])
    ref = torch.tensor([5.0, 1.0, 1.0, 0.5])  # sample 0 is noise (high under both), sample 1 is learnable
    assert p.sample_weights(loss, torch.zeros(4, dtype=torch.long), ref).tolist() == [0, 1, 0, 0]


def test_reweight_gives_more_weight_to_higher_loss():
    p = make_policy("reweight", DOMS, NATURAL, {"tau": 1.0})
    assert p.sample_weights(torch.tensor([1.0, 2.0]), torch.zeros(2, dtype=torch.long), None) is None
    feed(p, [1.0, 3.0])
    w = p.sample_weights(torch.tensor([1.0, 2.0, 3.0]), torch.zeros(3, dtype=torch.long), None)
    assert w[0] < w[1] < w[2]


@pytest.mark.parametrize("name", ["odm", "doremi", "ado", "reweight"])
def test_state_round_trip_continues_identically(name):
    params = {"update_every": 1, **({"reference": "x"} if name == "doremi" else {})}
    a = make_policy(name, DOMS, NATURAL, params)
    rng = np.random.default_rng(0)
    seq = [rng.uniform(1, 5, size=2) for _ in range(30)]
    for t, ls in enumerate(seq[:15]):
        feed(a, ls, ref=ls * 0.5, step=t + 1)
    b = make_policy(name, DOMS, NATURAL, params)
    b.load_state_dict(a.state_dict())
    for t, ls in enumerate(seq[15:]):
        feed(a, ls, ref=ls * 0.5, step=t + 16)
        feed(b, ls, ref=ls * 0.5, step=t + 16)
        assert a.weights.tolist() == b.weights.tolist()


def test_unknown_strategy_suggests_the_closest():
    with pytest.raises(UsageError, match="did you mean 'doremi'"):
        make_policy("doremmi", DOMS, NATURAL, {})


def test_unknown_parameter_lists_valid_ones():
    with pytest.raises(UsageError, match="did you mean tau"):
        make_policy("temperature", DOMS, NATURAL, {"taw": 2})


def test_every_strategy_of_the_issue_is_registered():
    assert {"uniform", "natural", "temperature", "static", "odm", "doremi", "ado", "hard", "rho", "reweight"} <= set(
        available_policies()
    )


def test_loss_curve_mixer_leaves_a_domain_whose_curve_flattened():
    p = make_policy("ado", DOMS, NATURAL, {"update_every": 1})
    for t in range(1, 100):
        steady = 2.0 + 8.0 * (16.0 * t) ** -0.3
        dropped = 4.0 + 2.0 * np.exp(-t / 4)  # falls fast for about ten windows, then flat
        feed(p, [steady, dropped], counts=np.maximum(np.round(p.weights * 32), 1), step=t)
        if t == 12:
            assert p.weights[1] > 0.45  # while it was falling, the dropping domain kept its share
    assert p.weights[0] > 0.7, p.weights
    assert p.weights[1] >= 0.25 / 2  # but never below the floor


def test_floor_weights_lifts_only_the_starved_domains():
    from gristmill.train.policies.base import floor_weights

    w = floor_weights(np.array([0.9, 0.07, 0.02, 0.01]), 0.05)
    assert np.isclose(w.sum(), 1.0) and (w >= 0.05 - 1e-12).all()
    assert np.isclose(w[1] / w[0], 0.07 / 0.9)  # the others keep their proportions
    ok = np.array([0.4, 0.3, 0.2, 0.1])
    assert np.allclose(floor_weights(ok, 0.05), ok)  # nothing to lift: unchanged


@pytest.mark.parametrize("name", ["odm", "ado", "doremi"])
def test_guard_rails_bound_every_mixer(name):
    """A domain whose loss never moves and one that keeps falling: no mixer starves the first below its floor,
    and with max_change no weight moves more than that factor in one update."""
    doms = ["a", "b", "c", "d"]
    p = make_policy(name, doms, np.ones(4), {"update_every": 1, "min_weight": 0.05, "max_change": 1.2, "reference": "x"})
    for t in range(1, 80):
        before = p.weights.copy()
        falling = 2.0 + 8.0 * (16.0 * t) ** -0.4
        feed(p, [falling, 5.0, 3.0 + 0.1 * np.sin(t), 4.0], ref=[1.0, 5.0, 3.0, 4.0], counts=(8, 8, 8, 8), step=t)
        assert (p.weights >= 0.05 - 1e-9).all(), p.weights
        assert (p.weights <= before * 1.2 + 1e-9).all() and (p.weights >= before / 1.2 - 1e-9).all()
    assert np.isclose(p.weights.sum(), 1.0)


def test_guard_parameters_are_checked():
    with pytest.raises(UsageError, match="min_weight"):
        make_policy("ado", DOMS, NATURAL, {"min_weight": 0.5})
    with pytest.raises(UsageError, match="max_change"):
        make_policy("ado", DOMS, NATURAL, {"max_change": 0.9})


def test_loss_curve_mixer_does_not_collapse_onto_a_memorised_domain():
    """The 1M-token failure of the first version: a scarce domain whose training loss keeps falling (it is
    being memorised) took half the mixture and starved the rest at 0.018. With per-domain token counts a
    domain that gets more tokens must show proportionally more progress to keep them, and the floor holds."""
    doms = ["scarce", "b", "c", "d", "e", "f"]
    p = make_policy("ado", doms, np.ones(6), {"update_every": 1})
    n = np.zeros(6)
    for t in range(1, 200):
        counts = np.maximum(np.round(p.weights * 96), 1)
        n += counts
        others = [2.0 + 6.0 * (n[i] / 8) ** -0.3 for i in range(1, 6)]
        memorised = 1.0 + 6.0 * (n[0] / 8) ** -0.35  # a steeper fall
        feed(p, [memorised, *others], counts=counts, step=t)
    assert p.weights.max() < 0.5, p.weights
    assert p.weights.min() >= 0.25 / 6 - 1e-9, p.weights


def test_doremi_averages_the_frozen_reference_over_the_run():
    """With the reference forward only on some steps, windows without it still see the run's reference mean."""
    every = make_policy("doremi", DOMS, NATURAL, {"update_every": 1, "reference": "x", "min_weight": 0.0})
    sparse = make_policy("doremi", DOMS, NATURAL, {"update_every": 1, "reference": "x", "min_weight": 0.0})
    for t in range(12):
        feed(every, [2.0, 5.0], ref=[1.0, 5.0], step=t + 1)
        feed(sparse, [2.0, 5.0], ref=[1.0, 5.0] if t % 4 == 0 else None, step=t + 1)
    assert np.allclose(every.weights, sparse.weights)
    assert sparse.reference_every == 8  # DoReMi's default: the reference costs an eighth of a forward per step


def test_loss_curve_mixer_discounts_a_domain_it_has_repeated_many_times():
    """Same learning curve, but one domain is 1000x smaller: after dozens of epochs its falling training loss
    is memorisation, and each more token of it is worth less (repeat_value), so it gets the smaller share."""
    p = make_policy("ado", ["big", "tiny"], np.array([1e7, 1e4]), {"update_every": 1})
    off = make_policy("ado", ["big", "tiny"], np.array([1e7, 1e4]), {"update_every": 1, "repeat_scale": 0})
    drawn = np.zeros(2)
    for t in range(1, 80):
        drawn += 4096
        loss = 2.0 + 8.0 * (16.0 * t) ** -0.3
        for pol in (p, off):
            s = DomainStats.zeros(2)
            s.count[:] = 8
            s.loss_sum[:] = loss * 8
            pol.on_step(Feedback(step=t, stats=s, tokens_per_domain=drawn.copy()))
    assert p.epochs[1] > 30 and repeat_value(p.epochs, p.repeat_scale)[1] < 0.2
    assert p.weights[1] < 0.3 < off.weights[1], (p.weights, off.weights)


def feed_alignment(policy, align, step, tokens=None):
    k = len(align)
    s = DomainStats.zeros(k)
    s.count[:] = 4
    s.loss_sum[:] = 12.0
    s.loss_sq[:] = 36.0
    t = np.zeros(k) if tokens is None else np.asarray(tokens, dtype=np.float64)
    return policy.on_step(Feedback(step=step, stats=s, tokens_per_domain=t, alignment=np.asarray(align)))


def test_gradient_alignment_mixer_follows_transfer_not_own_loss():
    """Domain 'a' helps every domain (its gradient is aligned with all of them), 'c' is orthogonal to the
    rest and its own gradient is noise (split-half self term 0): a gets the most weight, c falls to its
    floor, whatever the raw losses say."""
    doms = ["a", "b", "c"]
    p = make_policy("doge", doms, np.ones(3), {"update_every": 1, "memory": 0.5})
    align = np.array([[1.0, 0.6, 0.0], [0.6, 0.5, 0.0], [0.0, 0.0, 0.0]])
    for t in range(1, 40):
        feed_alignment(p, align, step=t)
    assert p.weights[0] > p.weights[1] > p.weights[2]
    assert np.isclose(p.weights[2], p.min_weight)


def test_gradient_alignment_mixer_waits_for_every_pair_and_keeps_old_pairs():
    p = make_policy("doge", ["a", "b"], np.ones(2), {"update_every": 1})
    partial = np.array([[1.0, 0.2], [0.2, np.nan]])  # b had a single sample: no self term yet
    assert not feed_alignment(p, partial, step=1)
    assert p.weights.tolist() == [0.5, 0.5]
    assert feed_alignment(p, np.array([[np.nan, np.nan], [np.nan, 0.1]]), step=2)  # a absent this probe
    assert p.align[0, 0] == 1.0 and p.align[1, 1] == 0.1
    assert p.weights[0] > 0.5


def test_gradient_alignment_mixer_discounts_a_repeated_domain():
    """Same gradients, but 'b' has been seen 40 times: its training gradient says less about held-out text."""
    align = np.array([[1.0, 0.5], [0.5, 1.0]])
    fresh = make_policy("doge", ["a", "b"], np.array([1000.0, 1000.0]), {"update_every": 1})
    seen = make_policy("doge", ["a", "b"], np.array([1000.0, 1000.0]), {"update_every": 1})
    for t in range(1, 10):
        feed_alignment(fresh, align, step=t, tokens=[500.0 * t, 500.0 * t])
        feed_alignment(seen, align, step=t, tokens=[500.0 * t, 40_000.0])
    assert np.isclose(fresh.weights[0], fresh.weights[1])
    assert seen.weights[1] < 0.3


def test_gradient_alignment_mixer_state_round_trip():
    rng = np.random.default_rng(0)
    mats = [rng.normal(size=(3, 3)) + 2 for _ in range(20)]
    for m in mats:
        m[rng.integers(3), rng.integers(3)] = np.nan
    a = make_policy("doge", ["x", "y", "z"], np.ones(3), {"update_every": 2})
    for t, m in enumerate(mats[:10]):
        feed_alignment(a, m, step=t + 1)
    b = make_policy("doge", ["x", "y", "z"], np.ones(3), {"update_every": 2})
    b.load_state_dict(a.state_dict())
    for t, m in enumerate(mats[10:]):
        feed_alignment(a, m, step=t + 11)
        feed_alignment(b, m, step=t + 11)
        assert a.weights.tolist() == b.weights.tolist()
    with pytest.raises(UsageError, match="gradient_every"):
        make_policy("doge", ["x", "y"], np.ones(2), {"gradient_every": 0})
