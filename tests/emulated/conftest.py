"""The CUDA code path on a CPU: ``fake_cupy`` (a CuPy stand-in on NumPy) and ``cuda_emulator``
(the kernels built with g++). The tests here import both as plain modules from this folder."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
