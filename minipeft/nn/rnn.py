"""Recurrent networks: the baseline that reads a sentence one word at a time.

An Elman RNN keeps one hidden vector per sequence and updates it once per token:

    h_t = tanh(x_t W_x + h_{t-1} W_h + b)        x_t (B, D), h_t (B, H)

Two parts of that formula behave very differently:

* ``x_t W_x + b`` does not depend on any earlier step, so it is computed for all T
  steps at once: one matrix product over B*T rows (parallel over time).
* ``h_{t-1} W_h`` needs the previous hidden state, so the steps run one after another
  in a Python loop. T steps means T small matrix products that cannot overlap. This
  loop is why an RNN cannot use a parallel machine the way a Transformer does.

Backprop through time (BPTT) runs the loop backwards. The gradient reaching step s
from a loss at step t is multiplied once per step in between by
``diag(1 - h^2) W_h^T``, so it shrinks (or grows) geometrically: vanishing gradients.
``RNN(..., return_step_states=True)`` lets a lesson measure it at every step.

Truncated BPTT (window k) cuts the graph every k steps with ``h = h.detach()``: the
forward pass still carries the state across the whole sequence, but no gradient flows
back across a cut, so backward costs at most k steps per gradient path.

An LSTM adds a cell state c updated by gates (``c_t = f * c_{t-1} + i * g``); the
forget gate f lets the gradient along c pass without the repeated W_h product, which
is what keeps it from vanishing.
"""
from __future__ import annotations

from .. import functional as F
from ..autograd import Tensor
from ..backend import array_module
from . import init
from .layers import Embedding, Linear
from .module import Module


# ---- Elman RNN -------------------------------------------------------------------------

class RNNCell(Module):
    """One step of an Elman RNN: h' = tanh(x W_x + h W_h + b), x (B, D), h and h' (B, H)."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.input_proj = Linear(input_size, hidden_size)                   # W_x (D, H), b (H,)
        self.hidden_weight = init.xavier_uniform(hidden_size, hidden_size)  # W_h (H, H)

    def forward(self, x: Tensor, h: Tensor) -> Tensor:
        return self.recur(self.input_proj(x), h)

    def recur(self, xw: Tensor, h: Tensor) -> Tensor:
        """The part that must wait for the previous step: tanh(xw + h W_h), with xw = x W_x + b."""
        return (xw + h @ self.hidden_weight).tanh()  # (B, H)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"


def _check_sequence(module: str, x: Tensor, input_size: int) -> None:
    if x.ndim != 3 or x.shape[-1] != input_size:
        raise ValueError(f"{module}: expected input of shape (B, T, {input_size}), got {x.shape}")


def _check_state(module: str, name: str, state: Tensor, batch: int, hidden: int) -> None:
    if state.shape != (batch, hidden):
        raise ValueError(f"{module}: {name} must have shape ({batch}, {hidden}), got {state.shape}")


def _zeros(like: Tensor, batch: int, hidden: int) -> Tensor:
    return Tensor(array_module(like.data).zeros((batch, hidden), dtype=like.dtype))


def _cut_here(t: int, window: int | None) -> bool:
    """Truncated BPTT: the graph is cut before steps k, 2k, 3k, ... (never before step 0)."""
    return window is not None and t > 0 and t % window == 0


def _check_window(window: int | None) -> None:
    if window is not None and (not isinstance(window, int) or window < 1):
        raise ValueError(f"bptt_window must be a positive int or None (no truncation), got {window!r}")


class RNN(Module):
    """An Elman RNN run over a whole sequence.

    ``forward(x, h0=None)`` takes x (B, T, D) and returns ``(outputs, h_last)``: every
    hidden state (B, T, H) and the last one (B, H). With ``bptt_window=k`` the graph is
    cut every k steps (truncated BPTT). With ``return_step_states=True`` it also returns
    the list of the T hidden-state Tensors, each keeping its ``.grad`` after backward
    (dL/dh_t), for measuring how much gradient reaches each earlier step.
    """

    def __init__(self, input_size: int, hidden_size: int, bptt_window: int | None = None):
        super().__init__()
        _check_window(bptt_window)
        self.input_size, self.hidden_size, self.bptt_window = input_size, hidden_size, bptt_window
        self.cell = RNNCell(input_size, hidden_size)

    def forward(self, x: Tensor, h0: Tensor | None = None, return_step_states: bool = False):
        _check_sequence("RNN", x, self.input_size)
        B, H = x.shape[0], self.hidden_size
        # Parallel over time: the input projection of all T steps in one matrix product.
        xw = self.cell.input_proj(x)  # (B, T, H)
        h = _zeros(xw, B, H) if h0 is None else h0  # (B, H)
        _check_state("RNN", "h0", h, B, H)
        states = []
        # Sequential over time: step t needs h from step t-1, so this loop cannot be
        # parallelised; each pass is one small (B, H) x (H, H) product and a tanh.
        for t, xw_t in enumerate(F.unbind(xw, axis=1)):
            if _cut_here(t, self.bptt_window):
                h = h.detach()  # truncated BPTT: no gradient flows back past this point
            h = self.cell.recur(xw_t, h)  # (B, H)
            states.append(h)
        outputs = F.stack(states, axis=1)  # (B, T, H)
        if return_step_states:
            return outputs, h, [state.retain_grad() for state in states]
        return outputs, h

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bptt_window={self.bptt_window}"


# ---- LSTM ------------------------------------------------------------------------------

class LSTMCell(Module):
    """One LSTM step. With z = x W_x + h W_h + b (B, 4H) cut into four gates (order i, f, o, g):

        i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o)    input, forget, output gates
        g = tanh(z_g)                                         candidate values
        c' = f * c + i * g,   h' = o * tanh(c')

    The forget gate's bias starts at 1, so the cell begins by remembering.
    """

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.input_proj = Linear(input_size, 4 * hidden_size)                   # W_x (D, 4H), b (4H,)
        self.hidden_weight = init.xavier_uniform(hidden_size, 4 * hidden_size)  # W_h (H, 4H)
        self.input_proj.bias.data[hidden_size:2 * hidden_size] = 1.0            # forget-gate bias

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        return self.recur(self.input_proj(x), state)

    def recur(self, xw: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        """One step given xw = x W_x + b (B, 4H) and state = (h, c): returns (h', c')."""
        h, c = state
        H = self.hidden_size
        z = xw + h @ self.hidden_weight  # (B, 4H)
        i, f, o = F.split(z[:, :3 * H].sigmoid(), 3, axis=1)  # each (B, H)
        g = z[:, 3 * H:].tanh()  # (B, H)
        c = f * c + i * g
        h = o * c.tanh()
        return h, c

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"


class LSTM(Module):
    """An LSTM run over a whole sequence, like ``RNN`` but with state (h, c).

    ``forward(x, state=None)`` returns ``(outputs, (h_last, c_last))``; ``bptt_window`` and
    ``return_step_states`` work as in ``RNN`` (the step states are the h_t).
    """

    def __init__(self, input_size: int, hidden_size: int, bptt_window: int | None = None):
        super().__init__()
        _check_window(bptt_window)
        self.input_size, self.hidden_size, self.bptt_window = input_size, hidden_size, bptt_window
        self.cell = LSTMCell(input_size, hidden_size)

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor] | None = None, return_step_states: bool = False):
        _check_sequence("LSTM", x, self.input_size)
        B, H = x.shape[0], self.hidden_size
        xw = self.cell.input_proj(x)  # (B, T, 4H), all steps at once
        h, c = (_zeros(xw, B, H), _zeros(xw, B, H)) if state is None else state
        _check_state("LSTM", "h0", h, B, H)
        _check_state("LSTM", "c0", c, B, H)
        states = []
        for t, xw_t in enumerate(F.unbind(xw, axis=1)):  # sequential, as in RNN.forward
            if _cut_here(t, self.bptt_window):
                h, c = h.detach(), c.detach()
            h, c = self.cell.recur(xw_t, (h, c))  # (B, H) each
            states.append(h)
        outputs = F.stack(states, axis=1)  # (B, T, H)
        if return_step_states:
            return outputs, (h, c), [state.retain_grad() for state in states]
        return outputs, (h, c)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bptt_window={self.bptt_window}"


# ---- models ----------------------------------------------------------------------------

def _recurrent_layer(cell: str, d: int, hidden: int, bptt_window: int | None) -> Module:
    if cell == "rnn":
        return RNN(d, hidden, bptt_window)
    if cell == "lstm":
        return LSTM(d, hidden, bptt_window)
    raise ValueError(f"cell must be 'rnn' or 'lstm', got {cell!r}")


def _embedding(vocab_size: int, d: int) -> Embedding:
    # Entries of size 1/sqrt(d) give each token vector a length near 1, so the tanh gets
    # an input of useful size (BERT's std 0.02 would make it almost silent).
    return Embedding(vocab_size, d, std=d ** -0.5)


class RNNClassifier(Module):
    """Embedding -> RNN (or LSTM) -> linear layer on the last hidden state: logits (B, C).

    ``forward(ids, mask=None)`` takes token ids (B, T); with a padding ``mask`` (B, T)
    (True on real tokens, padding on the right) each row is read at its own last real
    token. ``return_step_states=True`` also returns the per-step hidden states (see RNN).
    """

    def __init__(self, vocab_size: int, d: int, hidden: int, num_classes: int,
                 bptt_window: int | None = None, cell: str = "rnn"):
        super().__init__()
        self.embedding = _embedding(vocab_size, d)
        self.rnn = _recurrent_layer(cell, d, hidden, bptt_window)
        self.head = Linear(hidden, num_classes)

    def forward(self, ids, mask=None, return_step_states: bool = False):
        x = self.embedding(ids)  # (B, T, d)
        outputs, last, *steps = self.rnn(x, return_step_states=return_step_states)
        h = last[0] if isinstance(last, tuple) else last  # (B, H); an LSTM's last is (h, c)
        if mask is not None:
            h = outputs[_last_real_positions(mask, outputs)]  # (B, H)
        logits = self.head(h)  # (B, C)
        return (logits, steps[0]) if return_step_states else logits


def _last_real_positions(mask, outputs: Tensor):
    """Index (rows, columns) of each row's last True entry of a right-padded (B, T) mask."""
    mask = mask.data if isinstance(mask, Tensor) else mask
    if tuple(mask.shape) != outputs.shape[:2]:
        raise ValueError(f"RNNClassifier: the mask must have the ids' shape {outputs.shape[:2]}, "
                         f"got {tuple(mask.shape)}")
    xp = array_module(outputs.data)
    lengths = xp.asarray(mask).sum(axis=1)  # (B,), on the outputs' device
    if bool((lengths == 0).any()):
        raise ValueError("RNNClassifier: every row of the mask needs at least one real (True) token")
    return xp.arange(mask.shape[0]), lengths - 1


class RNNLanguageModel(Module):
    """Embedding -> RNN (or LSTM) -> linear layer at every step: next-token logits (B, T, V).

    The logits at step t score the token at t + 1, having read tokens 0..t only.
    """

    def __init__(self, vocab_size: int, d: int, hidden: int, bptt_window: int | None = None, cell: str = "rnn"):
        super().__init__()
        self.embedding = _embedding(vocab_size, d)
        self.rnn = _recurrent_layer(cell, d, hidden, bptt_window)
        self.head = Linear(hidden, vocab_size)

    def forward(self, ids, return_step_states: bool = False):
        outputs, _, *steps = self.rnn(self.embedding(ids), return_step_states=return_step_states)  # (B, T, H)
        logits = self.head(outputs)  # (B, T, V)
        return (logits, steps[0]) if return_step_states else logits
