"""Counting what a training step asks of the device: operators, host syncs, host-to-device copies.

Device-independent proxies for a GPU's costs, used by ``profile_step.py`` and by
``tests/test_perf_paths.py``::

    with OpCounter() as counter:
        train_step(...)
    assert counter.syncs == 1
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from torch.utils._python_dispatch import TorchDispatchMode, _disable_current_modes


class OpCounter(TorchDispatchMode):
    """Counts the operators that reach the kernels (below autograd), on any device.

    Device-independent proxies for a GPU's costs:
    ``sum(ops.values())`` ~ kernel launches; :attr:`syncs` ~ host–device synchronisations
    (``.item()``, ``bool(tensor)``: the host waits for the GPU); :attr:`from_python` ~ tensors
    built from Python data (``x[:, (0, 3)]``, ``torch.tensor([...])``: a host-to-device copy).

        with OpCounter() as counter:
            train_step(...)
        assert counter.syncs == 1
    """

    def __init__(self) -> None:
        super().__init__()
        self.ops: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops[str(func.overloadpacket)] += 1
        return func(*args, **(kwargs or {}))

    @property
    def syncs(self) -> int:
        return self.ops["aten._local_scalar_dense"]

    @property
    def from_python(self) -> int:
        return self.ops["aten.lift_fresh"]


def uncounted(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn``, run outside any :class:`OpCounter`: ``optimizer.step = uncounted(optimizer.step)``
    (on CPU, Adam reads its step counts with ``.item()``, which is not a device sync there)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        with _disable_current_modes():
            return fn(*args, **kwargs)

    return call
