"""Sequential vs parallel, counted: work, dispatches and elements of one layer, the cost model,
and the thread-speedup harness's bookkeeping (never its timings: those are benchmarks)."""
import numpy as np
import pytest

import minipeft as mp
from minipeft.bench.cost_model import GPU_SPECS, DeviceConstants, gpu_constants
from minipeft.bench.sequential import closed_form_flops, layer_work, time_layers
from minipeft.bench.threads import amdahl_speedup, thread_speedup
from minipeft.kernels.matmul import gemm
from minipeft.kernels.traffic import WatchedArray, count_traffic, watch


@pytest.mark.parametrize("kind", ["rnn", "lstm", "transformer"])
@pytest.mark.parametrize("length,d,batch", [(1, 8, 1), (16, 8, 3), (64, 16, 2), (33, 12, 5)])
def test_counted_flops_equal_the_closed_form_exactly(kind, length, d, batch):
    work = layer_work(kind, length, d=d, batch=batch)
    assert work["flops"] == closed_form_flops(kind, batch, length, d)


def test_the_encoder_layer_work_grows_with_t_squared_and_the_rnn_with_t():
    rnn = [closed_form_flops("rnn", 8, t, 128) for t in (256, 512)]
    encoder = [closed_form_flops("transformer", 8, t, 128) for t in (256, 512)]
    assert rnn[1] / rnn[0] == pytest.approx(2.0, rel=1e-3)
    assert 2.0 < encoder[1] / encoder[0] < 4.0  # 24 T d^2 + 4 T^2 d: between linear and quadratic


def test_each_numpy_pass_over_a_watched_array_counts_its_inputs_and_output():
    a, b = watch(np.ones((4, 5))), watch(np.ones(5))
    with count_traffic() as traffic:
        c = a + b  # reads 20 + 5, writes 20
    assert traffic.elements == 45 and isinstance(c, WatchedArray)
    with count_traffic() as traffic:
        c.sum(axis=1)  # reads 20, writes 4
        np.where(c > 1, c, 0.0)  # the comparison: 20 + 20; where: 20 + 20 + 20
        c *= 2.0  # in place: reads 20, writes 20
    assert traffic.elements == 24 + 40 + 60 + 40
    with count_traffic() as traffic:
        np.ones((4, 5)) + np.ones(5)  # plain arrays are not watched
    assert traffic.elements == 0


def test_views_move_nothing_and_a_product_moves_its_operands_and_result():
    x = watch(np.ones((6, 4)))
    with count_traffic() as traffic:
        x.reshape(4, 6).T[1:]
    assert traffic.elements == 0
    with count_traffic() as traffic:
        gemm(x, watch(np.ones((4, 3))))  # reads 24 + 12, writes 18
    assert traffic.elements == 24 + 12 + 18


def test_every_forward_and_backward_call_is_one_dispatch():
    a = mp.tensor(np.ones((4, 5)), requires_grad=True, dtype="float64")
    with count_traffic() as traffic:
        (a.tanh() * 2.0).sum().backward()
    assert traffic.ops == 2 * 3  # tanh, mul, sum: forward and backward each


def test_dispatches_grow_with_t_for_the_rnn_only():
    rnn = [layer_work("rnn", t, d=4, batch=1)["dispatches"] for t in (8, 16, 32)]
    encoder = [layer_work("transformer", t, d=4, batch=1)["dispatches"] for t in (8, 16, 32)]
    assert rnn[2] - rnn[1] == 2 * (rnn[1] - rnn[0]) > 0
    assert len(set(encoder)) == 1


def test_the_model_adds_its_three_terms():
    device = DeviceConstants("toy", tau_s=1e-6, product_flops_per_s=1e9, elements_per_s=1e8,
                             sources={"tau": "t", "R": "r", "B": "b"})
    terms = device.predict_ms({"dispatches": 1000, "flops": 2e6, "elements": 3e5})
    assert terms["dispatch_ms"] == pytest.approx(1.0)
    assert terms["products_ms"] == pytest.approx(2.0)
    assert terms["elementwise_ms"] == pytest.approx(3.0)
    assert terms["total_ms"] == pytest.approx(6.0)
    assert len(device.describe()) == 3 and "toy" not in device.describe()[0]


def test_gpu_constants_come_from_the_published_rates():
    h100 = gpu_constants("H100 SXM", host_tau_s=5e-6)
    spec = GPU_SPECS["H100 SXM"]
    assert h100.product_flops_per_s == pytest.approx(spec["fp32_tflops"] * 1e12 * 0.5)
    assert h100.elements_per_s == pytest.approx(spec["memory_tb_per_s"] * 1e12 / 4 * 0.7)
    assert h100.tau_s == pytest.approx(15e-6)
    assert "datasheet" in h100.sources["R"]


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "fast", None, True])
def test_a_gpu_constant_that_is_not_a_positive_number_is_refused_by_name(bad):
    with pytest.raises(ValueError, match="product_efficiency must be a positive number"):
        gpu_constants("H100 SXM", host_tau_s=5e-6, product_efficiency=bad)
    with pytest.raises(ValueError, match="tau_s must be a positive number"):
        DeviceConstants("x", bad, 1.0, 1.0, {})


def test_an_unknown_gpu_lists_the_known_ones():
    with pytest.raises(ValueError, match="H100 SXM"):
        gpu_constants("GTX 280", host_tau_s=5e-6)


@pytest.mark.parametrize("bad", [0, -2, 1.5, "4", True])  # (cores=None means every core)
def test_thread_counts_and_lengths_must_be_positive_integers(bad):
    with pytest.raises(ValueError, match="cores must be a positive integer"):
        thread_speedup(cores=bad)
    with pytest.raises(ValueError, match="length must be a positive integer"):
        time_layers(("rnn",), lengths=(8, bad), d=4, batch=1, repeats=1)
    with pytest.raises(ValueError, match="length must be a positive integer"):
        layer_work("rnn", bad)


def test_one_core_skips_the_speedup_and_says_why():
    result = thread_speedup(cores=1)
    assert "skipped" in result and "1 core" in result["skipped"]


def test_the_speedup_harness_times_each_setting_in_its_own_process():
    result = thread_speedup(("rnn", "transformer"), lengths=(4, 8), d=8, batch=1, repeats=1, rounds=1, cores=2,
                            quick=True)
    assert DeviceConstants(**result["constants_1"]).tau_s > 0  # the one-thread child calibrated the model
    for kind in ("rnn", "transformer"):
        assert len(result[f"{kind}_speedup"]) == 2 and all(s > 0 for s in result[f"{kind}_speedup"])
        assert all(0 <= p <= 1 for p in result[f"{kind}_product_share"])


def test_amdahl():
    assert amdahl_speedup(1.0, 2) == 2.0 and amdahl_speedup(0.0, 8) == 1.0
    assert amdahl_speedup(0.5, 2) == pytest.approx(4 / 3)
