"""The models: :class:`RBM` and the unit types its layers are made of."""
from crbm.models.rbm import RBM, DivergenceError

__all__ = ["RBM", "DivergenceError"]
