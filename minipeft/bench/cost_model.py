"""A three-term cost model of one forward + backward, for the CPU here and for a named GPU.

    time = S tau + W / R + E / B

* S dispatches (every op's forward and backward call, ``kernels.traffic``), each paying a
  fixed cost tau: Python and NumPy's call overhead on the CPU; on a GPU the same Python
  plus a kernel launch. A recurrent layer has S proportional to T (its graph is a chain
  of T steps), an encoder layer a constant S.
* W matrix-product FLOPs (``count_gemms``) at the sustained product rate R (FLOP/s).
* E elements read and written by NumPy's passes over memory (``kernels.traffic``) at the
  rate B (elements/s) at which the machine streams them: elementwise work does so little
  arithmetic per element that memory bandwidth sets its time (the "roofline"), and so does
  a product whose result is large for its work (attention's T x T scores).

On this CPU the three constants are *measured* (``calibrate_cpu``): tau from a recurrent
layer with almost no work (width 1, batch 1), R from a large square product, B from a
large elementwise pass (minipeft's softmax over an array far larger than the caches). For
a GPU they are *cited* (``GPU_SPECS``): R and B from the card's published fp32 rate and
memory bandwidth times a stated efficiency; tau is this CPU's measured Python cost per op
plus a cited kernel launch, or, with the GPU at hand, measured on it. Each constant carries
its source, printed beside every prediction.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from .. import backend
from ..autograd import Tensor
from ..kernels.softmax import softmax_forward
from ..kernels.traffic import count_traffic, watch
from ..nn import RNN
from .sequential import forward_backward
from .timing import gemm_peak_gflops, median, time_ms

#: What a kernel launch costs the host, cited: Meta's Holistic Trace Analysis documentation
#: (CUDA kernel launch statistics): "Usually, the launch time on the CPU side is between
#: 5-20 microseconds." The model takes the middle of that range.
KERNEL_LAUNCH_S = 10e-6

#: Published peak rates (NVIDIA's H100 and H200 datasheets) and the efficiencies this model assumes:
GPU_SPECS = {
    "H100 SXM": dict(fp32_tflops=67.0, memory_tb_per_s=3.35, source="NVIDIA H100 datasheet (SXM5): "
                     "FP32 67 TFLOP/s, HBM3 3.35 TB/s"),
    "H200": dict(fp32_tflops=67.0, memory_tb_per_s=4.8, source="NVIDIA H200 datasheet: FP32 67 TFLOP/s, "
                 "HBM3e 4.8 TB/s"),
}
PRODUCT_EFFICIENCY = 0.5    # assumed: cuBLAS fp32 on these mid-sized products, half the peak
BANDWIDTH_EFFICIENCY = 0.7  # assumed: elementwise kernels stream at 70% of the peak bandwidth
BYTES_PER_ELEMENT = 4       # float32
GPU_SOURCES = ("sources: " + "; ".join(spec["source"] for spec in GPU_SPECS.values())
               + "; kernel launch: Holistic Trace Analysis docs, 'the launch time on the CPU side is between "
               "5-20 microseconds'; the efficiencies 0.5 (products) and 0.7 (bandwidth) are assumed, "
               "not measured")


def _positive_number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


@dataclasses.dataclass(frozen=True)
class DeviceConstants:
    """tau (s per dispatch), R (FLOP/s of products), B (elements/s streamed), and where each came from."""

    name: str
    tau_s: float
    product_flops_per_s: float
    elements_per_s: float
    sources: dict

    def __post_init__(self):
        for field in ("tau_s", "product_flops_per_s", "elements_per_s"):
            _positive_number(field, getattr(self, field))

    def predict_ms(self, work: dict) -> dict:
        """Each term of S tau + W / R + E / B in ms for one counted ``layer_work``, and their sum."""
        terms = {"dispatch_ms": work["dispatches"] * self.tau_s * 1e3,
                 "products_ms": work["flops"] / self.product_flops_per_s * 1e3,
                 "elementwise_ms": work["elements"] / self.elements_per_s * 1e3}
        return {**terms, "total_ms": sum(terms.values())}

    def describe(self) -> list[str]:
        """One line per constant: its value and its source."""
        return [f"tau = {self.tau_s * 1e6:.1f} us per dispatch ({self.sources['tau']})",
                f"R = {self.product_flops_per_s / 1e9:,.0f} GFLOP/s ({self.sources['R']})",
                f"B = {self.elements_per_s / 1e9:,.1f} G elements/s ({self.sources['B']})"]

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def measure_dispatch_s(steps: int = 256, repeats: int = 5) -> float:
    """tau: forward + backward of an RNN layer of width 1 on 1 sequence, divided by its dispatches.

    The same ops as a real recurrent layer, on arrays of one or two numbers: the time left
    is what each op costs however little it computes.
    """
    layer = RNN(1, 1)
    layer.cell.hidden_weight.data[...] = 0.5  # |W_h| < 1: the gradient through 256 steps stays finite
    x = Tensor(backend.xp_for(backend.get_device()).zeros((1, steps, 1), dtype=np.float32), requires_grad=True)
    with count_traffic() as traffic:
        forward_backward(layer, x)
    return median(time_ms(lambda: forward_backward(layer, x), warmup=1, repeats=repeats)) * 1e-3 / traffic.ops


def measure_elementwise_rate(rows: int = 4096, row_length: int = 1024, repeats: int = 5) -> float:
    """B: minipeft's softmax over a (rows, row_length) array far larger than the caches, in
    elements moved per second: the elements its NumPy passes read and write (max, subtract,
    exp, row sum, divide; counted by watching them) / its time. Softmax is the elementwise
    op attention runs on its T x T scores, and its passes are a typical mix (one of them exp)."""
    x = np.random.default_rng(0).standard_normal((rows, row_length), dtype=np.float32)
    with count_traffic() as traffic:
        softmax_forward(watch(x))
    return traffic.elements / (median(time_ms(lambda: softmax_forward(x), warmup=1, repeats=repeats)) * 1e-3)


def calibrate_cpu(quick: bool = False) -> DeviceConstants:
    """tau, R and B measured now on this machine, each by one small measurement (module docstring)."""
    size, rows = (512, 256) if quick else (2048, 4096)
    tau = measure_dispatch_s(steps=32 if quick else 256)
    rate = gemm_peak_gflops("cpu", size=size, repeats=3) * 1e9
    stream = measure_elementwise_rate(rows=rows)
    return DeviceConstants("this CPU", tau, rate, stream, {
        "tau": "measured: an RNN of width 1",
        "R": f"measured: a {size} x {size} product",
        "B": f"measured: softmax over {rows} x 1024"})


def gpu_constants(gpu: str, host_tau_s: float, product_efficiency: float = PRODUCT_EFFICIENCY,
                  bandwidth_efficiency: float = BANDWIDTH_EFFICIENCY, launch_s: float = KERNEL_LAUNCH_S,
                  measured_tau_s: float | None = None) -> DeviceConstants:
    """The constants of a named GPU (a key of GPU_SPECS): cited rates times stated efficiencies;
    tau = the host's Python cost per op (measured on this CPU) + one kernel launch (cited), or
    ``measured_tau_s`` when the GPU is here to measure it on (``measure_dispatch_s`` on cuda)."""
    if gpu not in GPU_SPECS:
        raise ValueError(f"unknown GPU {gpu!r}; known: {sorted(GPU_SPECS)}")
    spec = GPU_SPECS[gpu]
    for name, value in (("host_tau_s", host_tau_s), ("product_efficiency", product_efficiency),
                        ("bandwidth_efficiency", bandwidth_efficiency), ("launch_s", launch_s)):
        _positive_number(name, value)
    if measured_tau_s is None:
        tau, tau_source = host_tau_s + launch_s, f"Python {host_tau_s * 1e6:.1f} us measured here + launch " \
                                                 f"{launch_s * 1e6:g} us, cited"
    else:
        tau, tau_source = _positive_number("measured_tau_s", measured_tau_s), "measured: an RNN of width 1 on this GPU"
    return DeviceConstants(
        gpu, tau, spec["fp32_tflops"] * 1e12 * product_efficiency,
        spec["memory_tb_per_s"] * 1e12 / BYTES_PER_ELEMENT * bandwidth_efficiency, {
            "tau": tau_source,
            "R": f"datasheet {spec['fp32_tflops']:g} TFLOP/s x {product_efficiency:g}",
            "B": f"datasheet {spec['memory_tb_per_s']:g} TB/s / 4 bytes x {bandwidth_efficiency:g}"})


def model_curves(constants: DeviceConstants, works: dict) -> dict:
    """The model's terms for each counted work: {kind: [predict_ms(work) per length]}."""
    return {kind: [constants.predict_ms(work) for work in per_length] for kind, per_length in works.items()}
