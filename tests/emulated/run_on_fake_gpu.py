"""Run a lesson (or any script) with ``fake_cupy`` standing in for CuPy, so that
``--device cuda`` works on a CPU:

    MINIPEFT_CUDA_KERNELS=0 python tests/emulated/run_on_fake_gpu.py lessons/05_finetuning.py --quick --device cuda

is ``python lessons/05_finetuning.py --quick --device cuda`` as a GPU would run it, every array
a CuPy-like device array. CUDA kernels cannot run in a plain process: ``MINIPEFT_CUDA_KERNELS=0``
makes every op take its array-math reference instead.
"""
import runpy
import sys

import fake_cupy  # this script's folder is sys.path[0]

if __name__ == "__main__":
    fake_cupy.install()
    script, sys.argv = sys.argv[1], sys.argv[1:]
    runpy.run_path(script, run_name="__main__")
