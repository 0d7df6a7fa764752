"""How deep and how big a recorded graph is: ``graph_depth`` and ``count_ops``.

The depth is the longest chain of ops from a leaf to the root: the ops on it must run one
after another, so it is the number of sequential steps of the computation.
"""
import numpy as np

import minipeft as mp
from minipeft.autograd import count_ops, graph_depth
from minipeft.autograd.ops.elementwise import Exp, Tanh
from minipeft.bench.sequential import layer_work


def leaf(seed=0):
    return mp.tensor(np.random.default_rng(seed).standard_normal(3), requires_grad=True, dtype="float64")


def test_a_chain_of_known_length_has_that_depth():
    x = leaf()
    y = x
    for _ in range(7):
        y = y.tanh()
    assert graph_depth(y) == 7 and count_ops(y) == 7


def test_depth_is_the_longest_branch_and_count_is_every_op():
    # y = tanh(tanh(tanh(x))) * exp(x): branches of 3 and 1 ops meet in a Mul, then sum.
    x = leaf()
    long_branch = x.tanh().tanh().tanh()
    root = (long_branch * x.exp()).sum()
    assert graph_depth(root) == 3 + 1 + 1  # the long branch, the Mul, the Sum
    assert count_ops(root) == 3 + 1 + 1 + 1  # plus the Exp on the short branch


def test_counts_weighs_only_the_listed_ops():
    x = leaf()
    root = x.tanh().exp().tanh().exp().exp().sum()
    assert graph_depth(root, counts=(Tanh,)) == 2
    assert graph_depth(root, counts=(Exp,)) == 3


def test_depth_from_a_source_ignores_chains_that_start_elsewhere():
    x, w = leaf(0), leaf(1)
    deep_in_w = w.tanh().tanh().tanh().tanh()
    root = (x.exp() + deep_in_w).sum()
    assert graph_depth(root) == 6  # through w: 4 tanh, the Add, the Sum
    assert graph_depth(root, source=x) == 3  # from x: Exp, Add, Sum
    assert graph_depth(w.tanh().sum(), source=x) is None  # does not depend on x at all


def test_an_rnn_takes_a_fixed_number_of_ops_per_step_and_attention_none():
    depths = {kind: [layer_work(kind, t, d=4, batch=2)["sequential_steps"] for t in (4, 8, 16, 32)]
              for kind in ("rnn", "lstm", "transformer")}
    for kind in ("rnn", "lstm"):
        per_step = np.diff(depths[kind]) / np.diff([4, 8, 16, 32])
        assert np.all(per_step == per_step[0]) and per_step[0] >= 1, (kind, depths[kind])
    assert len(set(depths["transformer"])) == 1, depths["transformer"]


def test_path_length_from_position_1_to_position_t():
    for t in (2, 5, 9):
        assert layer_work("rnn", t, d=4, batch=1)["path_length"] == t - 1  # h_{t-1} W_h, T - 1 times
        assert layer_work("lstm", t, d=4, batch=1)["path_length"] == t - 1
        assert layer_work("transformer", t, d=4, batch=1)["path_length"] == 1  # one attention op
