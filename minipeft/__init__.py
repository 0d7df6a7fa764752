"""minipeft: rebuild modern NLP fine-tuning by hand, from autograd to adapters.

    import minipeft as mp
    x = mp.tensor([[1.0, 2.0]], requires_grad=True)
    loss = (x @ mp.tensor([[3.0], [4.0]])).tanh().sum()
    loss.backward()          # x.grad now holds dloss/dx

Layers, each importing only those above it: backend, kernels, autograd, functional, nn,
optim, peft, data, train, viz, bench (see the README's map).
"""
from . import autograd, backend, functional, kernels, nn, optim, peft
from .autograd import Tensor, enable_grad, gradcheck, no_grad, tensor, trace
from .autograd.ops import *  # noqa: F401,F403  mp.add, mp.matmul, mp.softmax, ...
from .backend import get_device, manual_seed, set_device, synchronize

__version__ = "0.1.0"
