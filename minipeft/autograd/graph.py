"""How long and how big is a recorded graph? The numbers behind "sequential vs parallel".

``backward()`` walks the graph of ops that made the loss. Two of its sizes decide how
fast any machine can run it:

* ``count_ops(root)``: how many ops were recorded. Each op is dispatched on its own (a
  Python call and a NumPy call on the CPU, a kernel launch on a GPU), so each pays a
  fixed cost, however little work it does.
* ``graph_depth(root)``: the longest chain of ops from a leaf to ``root``. Ops on one
  chain must run one after another, since each needs the one before it; ops on
  different chains could run side by side. So the depth is the number of *sequential
  steps*: with unlimited parallel hardware the forward pass still takes that many steps
  (Vaswani et al. 2017, Table 1, "sequential operations").

    depth(leaf) = 0,    depth(t) = weight(op that made t) + max over its inputs of depth(input)

With ``source=x`` only chains that start at the tensor ``x`` count (``None`` when ``root``
does not depend on ``x``). With ``counts=`` the weight of an op is 1 only for the op
types listed and 0 for the others: the longest chain from position 1 to position T that
passes through the most *position-mixing* ops (an RNN's ``h W_h`` product, attention)
is the "maximum path length" of the same table.
"""
from __future__ import annotations

from .engine import topological_order
from .tensor import Tensor


def count_ops(root: Tensor) -> int:
    """The number of recorded ops (graph nodes) that ``root`` was made from, itself included."""
    return sum(1 for tensor in topological_order(root) if tensor._node is not None)


def graph_depth(root: Tensor, source: Tensor | None = None, counts: tuple | None = None) -> int | None:
    """The longest chain of recorded ops from a leaf (or from ``source``) to ``root``.

    ``counts``: op types (``Function`` subclasses) that add 1 to a chain; by default every
    op does. Returns None if ``source`` is given and ``root`` does not depend on it.
    """
    depth = {}  # id(tensor) -> longest weighted chain reaching it (None: not reached from source)
    for tensor in reversed(topological_order(root)):  # leaves first: inputs before their users
        node = tensor._node
        if source is not None and tensor is source:
            depth[id(tensor)] = 0
        elif node is None:
            depth[id(tensor)] = 0 if source is None else None
        else:
            reached = [depth[id(parent)] for parent in node.inputs
                       if parent is not None and depth[id(parent)] is not None]
            weight = 1 if counts is None or node.function in counts else 0
            depth[id(tensor)] = weight + max(reached) if reached else None
    return depth[id(root)]
