"""Unit types: what the units of an RBM layer are.

A layer is a unit type plus its parameters (a bias, and for Gaussian units
a log-variance). The compiled core has the same layer (``crbm/_core/_units``):
each unit type supplies its conditional mean and sampling given the field
the other layer sends it, what its states send back into the products with
``W``, and its terms of the free energy. The classes here carry a type's
settings, its checks of data, and the same formulas in numpy (float64) for
:mod:`crbm.evaluate`.

With field ``a`` (the product with ``W``, before the bias) and inverse
temperature ``beta``:

========== ===================================== ===================== ==========================
unit type  state given its field                 sent into products    own energy of a state
========== ===================================== ===================== ==========================
Bernoulli  1 with probability sigmoid(beta(a+b)) v                     -b v
Gaussian   N(b + a, sigma^2 / beta)              v / sigma^2           (v - b)^2 / 2 sigma^2
========== ===================================== ===================== ==========================

Gaussian units follow Cho, Ilin & Raiko (2011), "Improved learning of
Gaussian-Bernoulli restricted Boltzmann machines": the energy is
``sum_i (v_i - b_i)^2 / 2 sigma_i^2 - sum_ij W_ij h_j v_i / sigma_i^2 -
c . h``, and ``log sigma^2`` is learned.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, ClassVar, Optional, Union

import numpy as np
from scipy.special import expit

__all__ = ["Units", "Bernoulli", "Gaussian", "as_units", "from_spec"]


class Units:
    """A unit type (abstract). Instances are immutable and compare by value."""

    #: The name ``RBM(visible=...)`` accepts and model files store.
    name: ClassVar[str]
    #: The compiled core's number for the type (``UnitKind`` in ``crbm/kernels.pxd``).
    kind: ClassVar[int]
    #: Whether every state is 0 or 1.
    binary: ClassVar[bool]
    #: Whether the layer has a learned log-variance per unit.
    has_variance: ClassVar[bool] = False
    #: The learning rate ``RBM.train`` uses when none is given.
    default_learning_rate: ClassVar[float]

    def spec(self) -> dict:
        """The type and its settings as JSON-compatible values (model files)."""
        raise NotImplementedError

    @property
    def data_in_unit_interval(self) -> bool:
        """Whether data for these units must lie in [0, 1]."""
        return False

    # numpy formulas, float64, for crbm.evaluate -----------------------------

    def mean(self, field: np.ndarray, bias: np.ndarray, log_var: Optional[np.ndarray],
             beta: float = 1.0) -> np.ndarray:
        """The mean state given the field from the other layer."""
        raise NotImplementedError

    def inputs(self, states: np.ndarray, log_var: Optional[np.ndarray]) -> np.ndarray:
        """What states send into the products with ``W``."""
        raise NotImplementedError

    def energy(self, states: np.ndarray, bias: np.ndarray,
               log_var: Optional[np.ndarray]) -> np.ndarray:
        """The layer's own energy of each row of states."""
        raise NotImplementedError

    def log_partition(self, field: np.ndarray, bias: np.ndarray,
                      log_var: Optional[np.ndarray]) -> np.ndarray:
        """log of the sum (or integral) over the layer's states ``s`` of
        ``exp(-energy(s) + inputs(s) . field)``, for each row of fields: the
        term of a free energy that sums the layer out."""
        raise NotImplementedError


@dataclass(frozen=True)
class Bernoulli(Units):
    """Binary units: state 1 with probability ``sigmoid(field + bias)``.

    Parameters
    ----------
    strict : bool, default True
        Data must lie in [0, 1] (each value a probability of the unit being
        on). ``False`` accepts any finite real values, as scikit-learn's
        ``BernoulliRBM`` does.
    """

    strict: bool = True

    name: ClassVar[str] = "bernoulli"
    kind: ClassVar[int] = 0
    binary: ClassVar[bool] = True
    default_learning_rate: ClassVar[float] = 0.01

    def __post_init__(self) -> None:
        if not isinstance(self.strict, (bool, np.bool_)):
            raise TypeError(f"strict must be True or False, got {self.strict!r}")

    def spec(self) -> dict:
        return {"type": self.name, "strict": bool(self.strict)}

    @property
    def data_in_unit_interval(self) -> bool:
        return bool(self.strict)

    def mean(self, field, bias, log_var, beta=1.0):
        return expit(beta * (field + bias))

    def inputs(self, states, log_var):
        return states

    def energy(self, states, bias, log_var):
        return -(states @ bias)

    def log_partition(self, field, bias, log_var):
        return np.logaddexp(0.0, field + bias).sum(axis=-1)


@dataclass(frozen=True)
class Gaussian(Units):
    """Real-valued units with a learned variance per unit: a state is
    ``N(bias + field, sigma^2)`` and sends ``v / sigma^2`` into the products
    (Cho, Ilin & Raiko 2011).

    Parameters
    ----------
    learn_std : bool, default True
        Learn ``log sigma^2`` with the other parameters. ``False`` keeps each
        sigma where it is (1 for a new model, or as assigned to
        ``RBM.visible_std``): the fixed sigma = 1 model of standardised data.
    min_std : float, default 0.01
        The smallest sigma training may reach: a unit whose data barely
        varies would otherwise shrink its sigma until ``1 / sigma^2``
        dominates every field it feeds.
    std_from_data : bool, default False
        With ``init="normal"``, the first :meth:`RBM.train` starts each sigma
        at its data's standard deviation (at least ``min_std``) as well as
        each bias at its mean: the best model with no hidden units. Steps
        then scale with ``1 / sigma^2``, so the learning rate must be about
        as much smaller (``RECIPES["gaussian"]``: 1e-4 for pixels in [0, 1]).
    """

    learn_std: bool = True
    min_std: float = 0.01
    std_from_data: bool = False

    name: ClassVar[str] = "gaussian"
    kind: ClassVar[int] = 1
    binary: ClassVar[bool] = False
    has_variance: ClassVar[bool] = True
    # Real-valued data makes larger fields than 0/1 data (Hinton, "A practical
    # guide to training RBMs", 13.2: one or two orders of magnitude smaller).
    default_learning_rate: ClassVar[float] = 0.001

    def __post_init__(self) -> None:
        if not isinstance(self.learn_std, (bool, np.bool_)):
            raise TypeError(f"learn_std must be True or False, got {self.learn_std!r}")
        if not isinstance(self.std_from_data, (bool, np.bool_)):
            raise TypeError(f"std_from_data must be True or False, got {self.std_from_data!r}")
        if isinstance(self.min_std, bool) or not isinstance(self.min_std, numbers.Real):
            raise TypeError(f"min_std must be a real number, got {self.min_std!r}")
        if not (math.isfinite(self.min_std) and self.min_std > 0):
            raise ValueError(f"min_std must be a finite number > 0, got {self.min_std}")

    @property
    def min_log_var(self) -> float:
        """The floor of ``log sigma^2``."""
        return 2.0 * math.log(self.min_std)

    def spec(self) -> dict:
        return {"type": self.name, "learn_std": bool(self.learn_std),
                "min_std": float(self.min_std), "std_from_data": bool(self.std_from_data)}

    def mean(self, field, bias, log_var, beta=1.0):
        return field + bias

    def inputs(self, states, log_var):
        return states * np.exp(-log_var)

    def energy(self, states, bias, log_var):
        return 0.5 * ((states - bias) ** 2 * np.exp(-log_var)).sum(axis=-1)

    def log_partition(self, field, bias, log_var):
        # The integral over v of exp(-(v - b)^2 / 2 s^2 + v a / s^2) is
        # sqrt(2 pi s^2) exp(((a + b)^2 - b^2) / 2 s^2).
        precision = np.exp(-log_var)
        return (0.5 * (((field + bias) ** 2 - bias ** 2) * precision).sum(axis=-1)
                + 0.5 * (np.log(2 * np.pi) + log_var).sum())


_TYPES = {cls.name: cls for cls in (Bernoulli, Gaussian)}


def as_units(value: Union[str, Units], role: str) -> Units:
    """A ``Units`` from a name (``"bernoulli"``, ``"gaussian"``) or an instance."""
    if isinstance(value, Units):
        return value
    if isinstance(value, str) and value in _TYPES:
        return _TYPES[value]()
    raise ValueError(f"{role} must be one of {sorted(_TYPES)} or a crbm.units.Units, "
                     f"got {value!r}")


def from_spec(spec: Any) -> Units:
    """Invert :meth:`Units.spec`; a spec that names no unit type is a ``ValueError``."""
    if not isinstance(spec, dict) or spec.get("type") not in _TYPES:
        raise ValueError(f"not a unit type: {spec!r}")
    settings = {key: value for key, value in spec.items() if key != "type"}
    try:
        return _TYPES[spec["type"]](**settings)
    except TypeError as exc:
        raise ValueError(f"invalid {spec['type']} units: {exc}") from exc
