"""Per-domain gradient probes: the same update as a plain backward, and the alignment matrix they imply."""

import contextlib

import numpy as np
import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from gristmill.train.gradients import GradientSketch, adam_preconditioner, alignment, probe_backward
from gristmill.train.model import per_sample_loss

pytestmark = pytest.mark.train


def tiny_model() -> GPT2LMHeadModel:
    torch.manual_seed(0)
    cfg = GPT2Config(n_layer=1, n_head=2, n_embd=32, vocab_size=97, n_positions=32, bos_token_id=0, eos_token_id=0,
                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)  # no dropout: runs compare exactly
    return GPT2LMHeadModel(cfg)


def test_probe_backward_gives_the_plain_gradient_and_each_groups_share():
    model = tiny_model()
    x = torch.randint(0, 97, (7, 17))
    dom = torch.tensor([0, 1, 0, 0, 2, 1, 0])  # domain 2 has one sample, domain 3 none
    scale = 1 / 7
    plain_loss = per_sample_loss(model, x)
    (plain_loss.sum() * scale).backward()
    plain = [p.grad.clone() for p in model.parameters()]
    model.zero_grad(set_to_none=True)

    sketch = GradientSketch(list(model.parameters()), size=1 << 30, seed=0)
    loss_ps, sums, sizes = probe_backward(model, x, dom, 4, sketch, scale, contextlib.nullcontext, None)
    for p, g in zip(model.parameters(), plain, strict=True):
        assert torch.allclose(p.grad, g, atol=1e-6)
    assert torch.allclose(loss_ps, plain_loss.detach(), atol=1e-5)
    assert sizes.tolist() == [2, 2, 1, 1, 1, 0, 0, 0]  # rows 2d+h: each domain's rows split in two halves
    assert torch.allclose(sums.sum(0) * scale, sketch.grads(), atol=1e-6)
    # row 0 is the sum of per-sample gradients of domain 0's first half (rows 0 and 3 of x)
    model.zero_grad(set_to_none=True)
    per_sample_loss(model, x[[0, 3]]).sum().backward()
    assert torch.allclose(sums[0], sketch.grads(), atol=1e-5)


def test_sketch_reads_a_fixed_subset_of_coordinates():
    model = tiny_model()
    total = sum(p.numel() for p in model.parameters())
    start = 0
    for p in model.parameters():
        p.grad = torch.arange(start, start + p.numel(), dtype=torch.float32).view_as(p)
        start += p.numel()
    a = GradientSketch(list(model.parameters()), size=500, seed=3)
    b = GradientSketch(list(model.parameters()), size=500, seed=3)
    got = a.grads()
    assert 450 < a.size <= 500 and got.shape == (a.size,)
    assert torch.equal(got, b.grads())  # the same coordinates on every rank (same seed)
    assert (got.diff() > 0).all() and got.max() < total  # distinct coordinates, in order
    assert GradientSketch(list(model.parameters()), size=1 << 30, seed=3).grads().shape == (total,)


def test_alignment_matrix_cross_terms_and_split_half_diagonal():
    a0, b0, g1 = torch.tensor([1.0, 2.0, 0.0]), torch.tensor([3.0, 0.0, 1.0]), torch.tensor([0.5, 0.5, 0.5])
    sums = torch.stack([a0 * 2, b0, g1, torch.zeros(3), torch.zeros(3), torch.zeros(3)])
    sizes = torch.tensor([2.0, 1.0, 1.0, 0.0, 0.0, 0.0])  # domain 0: halves of 2 and 1; 1: one sample; 2: none
    p = torch.tensor([1.0, 2.0, 1.0])
    a = alignment(sums, sizes, p).numpy()
    whole0 = (a0 * 2 + b0) / 3
    assert np.isclose(a[0, 0], float((a0 * p * b0).sum()))  # halves' means, not the noisy square
    assert np.isclose(a[0, 1], float((whole0 * p * g1).sum())) and np.isclose(a[1, 0], a[0, 1])
    assert np.isnan(a[1, 1])  # a single sample: no self term
    assert np.isnan(a[2]).all() and np.isnan(a[:, 2]).all()  # not drawn


def test_adam_preconditioner_reads_the_optimizers_second_moment():
    model = tiny_model()
    sketch = GradientSketch(list(model.parameters()), size=1 << 30, seed=0)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
    assert adam_preconditioner(opt, sketch) is None  # no step yet
    per_sample_loss(model, torch.randint(0, 97, (4, 9))).mean().backward()
    g = sketch.grads()
    opt.step()
    expect = 1 / ((g * g).sqrt() + 1e-8)  # after one step v̂ = g²
    assert torch.allclose(adam_preconditioner(opt, sketch), expect, rtol=1e-4)
