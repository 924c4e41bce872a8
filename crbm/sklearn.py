"""scikit-learn interface: :class:`BernoulliRBM`, a drop-in for
``sklearn.neural_network.BernoulliRBM`` trained by crbm's Cython kernels,
:class:`GaussianBernoulliRBM` for real-valued data and
:class:`DBNClassifier`, a deep belief network with labels on top.

Needs scikit-learn (``pip install "crbm[sklearn]"``); ``import crbm`` alone
never imports it.
"""
from __future__ import annotations

import numbers
import time
from numbers import Integral, Real
from typing import Any, Optional

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_expit

try:
    from sklearn.base import (
        BaseEstimator, ClassifierMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin,
        _fit_context)
    from sklearn.utils import check_random_state
    from sklearn.utils._param_validation import Interval
    from sklearn.utils.validation import check_is_fitted
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "crbm.sklearn needs scikit-learn >= 1.4: pip install 'crbm[sklearn]'") from exc

try:
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover - scikit-learn < 1.6
    def validate_data(estimator: Any, X: Any, **kwargs: Any) -> Any:
        return estimator._validate_data(X, **kwargs)

from crbm._core import _loops, _random
from crbm.models.rbm import RBM
from crbm.models.units import Bernoulli, Gaussian, Units

__all__ = ["BernoulliRBM", "GaussianBernoulliRBM", "DBNClassifier"]

# Input dtypes used as they are: crbm's kernels read uint8 (and bool, as
# uint8) a batch at a time, so an image dataset is never converted whole.
# Anything else becomes float64, as in scikit-learn.
_INPUT_DTYPES = [np.float64, np.float32, np.uint8, np.bool_]
# Values per block of rows when a method converts its input block by block
# (sparse rows densified for training, dense rows made contiguous for the
# kernels): 2**22 values are 32 MB in float64.
_BLOCK_VALUES = 1 << 22

# SplitMix64's increment, for the row hashes of score_samples; the mixing is
# crbm's one SplitMix64 (crbm._core._random).
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_mix = _random.mix64_array


def _generator(random_state: Any) -> np.random.Generator:
    """crbm's ``Generator`` from a scikit-learn ``random_state``.

    An int seeds it directly (the same int, the same model); a
    ``RandomState`` instance is drawn from, so that successive fits with one
    instance differ, as in scikit-learn; None gives fresh entropy.
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return np.random.default_rng(int(random_state))
    seed = check_random_state(random_state).randint(0, 2**32, size=4, dtype=np.uint64)
    return np.random.default_rng(seed)


def _model_dtype(X: Any) -> np.dtype:
    """float32 data gives a float32 model, anything else float64."""
    return np.dtype(np.float32 if X.dtype == np.float32 else np.float64)


def _row_blocks(n_rows: int, n_columns: int, multiple: int = 1) -> range:
    """Starts of row blocks of about ``_BLOCK_VALUES`` values, each a
    multiple of ``multiple`` rows."""
    rows = multiple * max(1, _BLOCK_VALUES // max(1, multiple * n_columns))
    return range(0, n_rows, rows) if n_rows else range(0)


class BernoulliRBM(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Bernoulli restricted Boltzmann machine for scikit-learn, trained by crbm.

    The same estimator as :class:`sklearn.neural_network.BernoulliRBM` --
    parameters, defaults, fitted attributes and methods -- with the training
    loop in crbm's Cython kernels: :meth:`fit` runs whole epochs of
    persistent contrastive divergence (PCD, also called stochastic maximum
    likelihood; Tieleman 2008) without Python per batch. crbm's extras are
    extra parameters whose defaults reproduce scikit-learn's algorithm.

    The algorithm is scikit-learn's: ``components_ ~ N(0, 0.01**2)`` and zero
    intercepts at the start; ``batch_size`` persistent chains; the data in
    order, in consecutive minibatches of ``batch_size`` rows (the last one
    possibly shorter); for each minibatch ``V0`` one update with positive
    statistics ``p(h | V0)``, negative statistics ``p(h | Vn)`` where ``Vn``
    are the chains' sampled visible states after one Gibbs sweep, and
    ``learning_rate`` times the gradient averaged over the rows:
    ``W += lr (V0^T p(h|V0) / n - Vn^T p(h|Vn) / batch_size)``, likewise for
    the intercepts. The differences, none of which changes what is learned
    beyond randomness, are:

    - **Random numbers.** crbm's own streams (counter-based uniforms keyed
      from a ``numpy.random.Generator`` seeded by ``random_state``), so fits
      are statistically equivalent to scikit-learn's, not draw-identical.
      An int ``random_state`` gives the same model every time.
    - **Chain state.** scikit-learn keeps the chains' *hidden* states in
      ``h_samples_`` and draws ``v ~ p(v | h_samples_)`` at the next update;
      crbm keeps their *visible* states (privately) and draws
      ``h ~ p(h | v)``, ``v ~ p(v | h)`` at the next update. The chain is the
      same Markov chain except that scikit-learn draws each hidden half-step
      with the parameters before an update and crbm with those after it,
      which learns slightly faster at first (binarised MNIST, 256 units, 3
      passes: held-out pseudo-likelihood per unit -0.137 against -0.164; the
      same scikit-learn code with its hidden draw moved after the update
      gives -0.137). Here ``h_samples_`` is a draw of ``p(h | v)`` from the
      chains' visible states after training. Both start from fair coin flips for ``v``
      (scikit-learn's ``h_samples_ = 0`` gives ``p(v | 0) = 1/2`` at the
      zero initial visible intercepts).
    - **Negative statistics** are averaged over the ``batch_size`` chains.
      scikit-learn divides their sum by the number of *data* rows, which
      differs for a last short minibatch, when ``batch_size`` exceeds the
      number of samples and in :meth:`partial_fit` with
      ``len(X) != batch_size`` (where scikit-learn weighs the negative phase
      by ``batch_size / len(X)``).
    - **score_samples** flips one unit per row chosen by a hash of the row's
      values keyed by ``random_state`` (through the fitted model), not by a
      random draw per call: the result does not depend on the order of the
      rows or on which other rows are scored with it.
    - **Divergence.** Training that makes a parameter overflow raises
      :class:`crbm.DivergenceError` and keeps the last finite parameters
      (scikit-learn carries on with inf/NaN).
    - **Data types.** float32 data gives a float32 model in :meth:`fit` and
      in the first :meth:`partial_fit` (scikit-learn's ``partial_fit`` casts
      to float64); later calls keep the model's dtype, and :meth:`transform`
      returns it. uint8 and bool data are read as they are, a batch at a
      time, and never converted whole.
      :meth:`partial_fit` returns ``self`` (scikit-learn's returns None) and
      :meth:`gibbs` validates its input.

    Parameters
    ----------
    n_components : int, default=256
        Number of binary hidden units.
    learning_rate : float, default=0.1
        Learning rate of the weight and intercept updates.
    batch_size : int, default=10
        Number of examples per minibatch, and of persistent chains.
    n_iter : int, default=10
        Number of passes over the training data in :meth:`fit`.
    verbose : int, default=0
        If not zero, print the pseudo-likelihood and time after every pass.
    random_state : int, RandomState instance or None, default=None
        Seeds crbm's generator: initial components, Gibbs sampling in
        training and in :meth:`gibbs`, and the units flipped by
        :meth:`score_samples`. Pass an int for reproducible results.
    k : int, default=1
        crbm extra: Gibbs sweeps of the persistent chains per update (PCD-k).
    momentum : float, default=0.0
        crbm extra: momentum in [0, 1) of the parameter updates.
    weight_decay : float, default=0.0
        crbm extra: L2 penalty on the weights.

    Attributes
    ----------
    intercept_hidden_ : ndarray of shape (n_components,)
        Biases of the hidden units.
    intercept_visible_ : ndarray of shape (n_features,)
        Biases of the visible units.
    components_ : ndarray of shape (n_components, n_features)
        Weight matrix (Fortran-ordered: the transpose of crbm's C-ordered
        ``RBM.W``, shared without copying).
    h_samples_ : ndarray of shape (batch_size, n_components)
        Hidden states sampled from the persistent chains.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :term:`fit`, when ``X`` has feature
        names that are all strings.

    See Also
    --------
    sklearn.neural_network.BernoulliRBM : scikit-learn's implementation.
    crbm.RBM : crbm's own interface, with all its training options.

    Examples
    --------
    >>> import numpy as np
    >>> from crbm.sklearn import BernoulliRBM
    >>> X = np.array([[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
    >>> model = BernoulliRBM(n_components=2, random_state=0).fit(X)
    >>> model.transform(X).shape
    (4, 2)
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "k": [Interval(Integral, 1, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, n_components: int = 256, *, learning_rate: float = 0.1,
                 batch_size: int = 10, n_iter: int = 10, verbose: int = 0,
                 random_state: Any = None, k: int = 1, momentum: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.verbose = verbose
        self.random_state = random_state
        self.k = k
        self.momentum = momentum
        self.weight_decay = weight_decay

    # -- fitting ------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> "BernoulliRBM":
        """Fit the model to the data X: ``n_iter`` passes of PCD.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse data is densified a block of whole
            minibatches at a time, never whole.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : BernoulliRBM
            The fitted model.
        """
        X = validate_data(self, X, accept_sparse="csr", dtype=_INPUT_DTYPES)
        self._initialize(X.shape[1], _model_dtype(X), _generator(self.random_state))
        if self.verbose:
            begin = time.time()
            for iteration in range(1, self.n_iter + 1):
                self._train(X, 1, self.batch_size)
                end = time.time()
                print(f"[{type(self).__name__}] Iteration {iteration}, {self._score_name} = "
                      f"{self.score_samples(X).mean():.2f}, time = {end - begin:.2f}s")
                begin = end
        elif self.n_iter:
            self._train(X, self.n_iter, self.batch_size)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any = None) -> "BernoulliRBM":
        """One PCD update with all of X as a single minibatch.

        The first call initialises the model (float32 if X is float32);
        later calls continue it, chains included.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data: one minibatch (densified whole if sparse).
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : BernoulliRBM
            The fitted model.
        """
        first_pass = not hasattr(self, "components_")
        X = validate_data(self, X, accept_sparse="csr", dtype=_INPUT_DTYPES, reset=first_pass)
        if first_pass:
            self._initialize(X.shape[1], _model_dtype(X), _generator(self.random_state))
        self._train(X, 1, X.shape[0])
        return self

    def _initialize(self, n_features: int, dtype: np.dtype,
                    generator: np.random.Generator) -> None:
        """scikit-learn's starting point: ``components_ ~ N(0, 0.01**2)``,
        zero intercepts, ``h_samples_ = 0``."""
        self._generator = generator
        components = generator.normal(0.0, 0.01, (self.n_components, n_features))
        self.components_ = np.ascontiguousarray(components.T, dtype=dtype).T
        self.intercept_hidden_ = np.zeros(self.n_components, dtype=dtype)
        self.intercept_visible_ = np.zeros(n_features, dtype=dtype)
        self.h_samples_ = np.zeros((self.batch_size, self.n_components), dtype=dtype)
        self._n_features_out = self.n_components
        # Training state beyond the parameters: the chains' visible states
        # and the momentum velocity, created by the first training.
        self._chains: Optional[np.ndarray] = None
        self._velocity: Optional[np.ndarray] = None
        # Keys the per-row choice of the unit score_samples flips.
        self._score_key = np.uint64(generator.integers(0, 2**63))

    # What score_samples computes, for the verbose output.
    _score_name = "pseudo-likelihood"

    def _units(self) -> Units:
        """The visible units: any real data, as in scikit-learn."""
        return Bernoulli(strict=False)

    def _after_training(self, rbm: RBM) -> None:
        """Copy back what training changed beyond the shared arrays."""

    def _log_var(self) -> np.ndarray:
        return np.empty(0, dtype=self._dtype())

    def _dtype(self) -> np.dtype:
        dtype = np.asarray(self.components_).dtype
        return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)

    def _weights(self) -> np.ndarray:
        """crbm's ``W``: ``components_.T``, C-contiguous (a view, normally)."""
        return np.ascontiguousarray(np.asarray(self.components_).T, dtype=self._dtype())

    def _bias(self, name: str) -> np.ndarray:
        return np.ascontiguousarray(getattr(self, name), dtype=self._dtype())

    def _rbm(self) -> RBM:
        """A crbm model on this estimator's own arrays: training updates them
        in place. Arrays that are not C-contiguous, writable and in the
        model's dtype (set by hand, or read-only after unpickling from a
        memory map) are copied once and kept."""
        dtype = self._dtype()

        def own(a: Any) -> np.ndarray:
            return np.require(a, dtype=dtype, requirements=["C", "W", "A"])

        W = own(np.asarray(self.components_).T)
        b, c = own(self.intercept_visible_), own(self.intercept_hidden_)
        self.components_, self.intercept_visible_, self.intercept_hidden_ = W.T, b, c
        rbm = RBM.from_parameters(W, b, c, visible=self._units(), random_state=self._generator,
                                  share=True)
        rbm.training_state = {
            "chains": None if self._chains is None else own(self._chains),
            "velocity": None if self._velocity is None else own(self._velocity)}
        return rbm

    def _train(self, X: Any, epochs: int, batch_size: int) -> None:
        """``epochs`` passes of PCD over X in minibatches of ``batch_size``
        rows, in crbm's kernels (whole epochs per call for dense X)."""
        rbm = self._rbm()
        options = dict(learning_rate=float(self.learning_rate), batch_size=batch_size,
                       k=int(self.k), persistent=True, n_chains=int(self.batch_size),
                       momentum=float(self.momentum), weight_decay=float(self.weight_decay))
        try:
            if not sp.issparse(X):
                rbm.train(X, epochs=epochs, **options)
            else:
                # Blocks of whole minibatches: the same updates as one call.
                starts = _row_blocks(X.shape[0], X.shape[1], min(batch_size, X.shape[0]))
                for _ in range(epochs):
                    for start in starts:
                        rbm.train(X[start:start + starts.step].toarray(), epochs=1, **options)
        finally:
            # Parameters were updated in place; the chains and velocity may
            # be new arrays.
            state = rbm.training_state
            self._chains, self._velocity = state["chains"], state["velocity"]
            self._after_training(rbm)
        if self._chains is not None:
            self.h_samples_ = rbm.sample_hidden(self._chains)

    # -- inference ----------------------------------------------------------

    def transform(self, X: Any) -> np.ndarray:
        """Compute the hidden layer activation probabilities, ``P(h=1|v=X)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data to be transformed.

        Returns
        -------
        h : ndarray of shape (n_samples, n_components)
            Latent representations of the data, in the model's dtype.
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", reset=False, dtype=_INPUT_DTYPES)
        return self._mean_hiddens(X)

    def _mean_hiddens(self, X: Any) -> np.ndarray:
        """``p(h | X)``, C-contiguous in the model's dtype; one 1-D row gives
        one 1-D row, as scikit-learn's does."""
        dtype, W, c = self._dtype(), self._weights(), self._bias("intercept_hidden_")
        if not sp.issparse(X) and np.ndim(X) == 1:
            return self._mean_hiddens(np.asarray(X)[None, :])[0]
        if sp.issparse(X):  # a sparse-dense product: X is never densified
            p = np.ascontiguousarray(X.astype(dtype, copy=False) @ W, dtype=dtype)
            p += c
            return expit(p, out=p)
        out = np.empty((X.shape[0], W.shape[1]), dtype=dtype)
        starts = _row_blocks(X.shape[0], X.shape[1])
        for start in starts:  # blocks bound the contiguous copies of X
            rows = np.ascontiguousarray(X[start:start + starts.step], dtype=dtype)
            out[start:start + len(rows)] = self._conditional(rows, hidden=True)
        return out

    # scikit-learn's private sampling helpers, kept for code (and scikit-learn's
    # own tests) written against them: states from the given generator's
    # uniforms, u < p, as scikit-learn draws them.
    def _sample_hiddens(self, v: Any, rng: Any) -> np.ndarray:
        """States of ``h ~ p(h | v)``, bool, from ``rng.uniform``."""
        p = self._mean_hiddens(v)
        return rng.uniform(size=p.shape) < p

    def _sample_visibles(self, h: Any, rng: Any) -> np.ndarray:
        """States of ``v ~ p(v | h)``, bool, from ``rng.uniform``."""
        rows = np.ascontiguousarray(np.atleast_2d(h), dtype=self._dtype())
        p = self._conditional(rows, hidden=False)
        p = p[0] if np.ndim(h) == 1 else p
        return rng.uniform(size=p.shape) < p

    def _conditional(self, rows: np.ndarray, hidden: bool) -> np.ndarray:
        """p(h | rows) or E[v | rows] for C-contiguous rows in the model's dtype."""
        return _loops.conditional_means(rows, self._weights(), self._bias("intercept_visible_"),
                                        self._bias("intercept_hidden_"), self._log_var(),
                                        self._units().kind, hidden)

    def gibbs(self, v: Any) -> np.ndarray:
        """Perform one Gibbs sampling step, ``h ~ p(h | v)`` then ``v ~ p(v | h)``.

        Parameters
        ----------
        v : {array-like, sparse matrix} of shape (n_samples, n_features)
            Values of the visible layer to start from.

        Returns
        -------
        v_new : ndarray of shape (n_samples, n_features), dtype bool
            Values of the visible layer after one Gibbs step.
        """
        check_is_fitted(self)
        v = validate_data(self, v, accept_sparse="csr", reset=False, dtype=_INPUT_DTYPES)
        h = self._mean_hiddens(v)
        _loops.sample_in_place(self._generator, h)
        p = self._conditional(h, hidden=False)
        _loops.sample_in_place(self._generator, p)
        return p.astype(bool)

    def score_samples(self, X: Any) -> np.ndarray:
        """Compute the pseudo-likelihood of X.

        For each row one visible unit ``j`` is flipped and the result is
        ``n_features * log sigmoid(F(v') - F(v))`` with ``F`` the free
        energy, as in scikit-learn. ``j`` is a hash of the row's nonzero
        values and their columns, keyed by the fitted model (hence by
        ``random_state``): a row gets the same score whatever else is
        scored with it, and in whatever order.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Values of the visible layer. Must be all-boolean (not checked).

        Returns
        -------
        pseudo_likelihood : ndarray of shape (n_samples,)
            Value of the pseudo-likelihood (proxy for likelihood), float64.
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", reset=False, dtype=_INPUT_DTYPES)
        n, N = X.shape
        # float64 whatever the model's dtype: the score is a difference of
        # free energies.
        W = np.asarray(self.components_, dtype=np.float64).T
        b = np.asarray(self.intercept_visible_, dtype=np.float64)
        c = np.asarray(self.intercept_hidden_, dtype=np.float64)
        out = np.empty(n, dtype=np.float64)
        starts = _row_blocks(n, max(N, W.shape[1]))
        for start in starts:
            rows = X[start:start + starts.step]
            m = rows.shape[0]
            if sp.issparse(rows):
                if not rows.has_canonical_format:  # one entry per (row, column)
                    rows = rows.copy()
                    rows.sum_duplicates()
                pre = np.asarray(rows @ W) + c
            else:
                rows = np.asarray(rows, dtype=np.float64)
                pre = rows @ W + c
            flip = self._flip_units(rows)
            value = np.asarray(rows[np.arange(m), flip], dtype=np.float64).ravel()
            # Flipping v_j changes it by delta; F(v) - F(v') in closed form.
            delta = 1.0 - 2.0 * value
            gap = b[flip] * delta + (np.logaddexp(0.0, pre + delta[:, None] * W[flip])
                                     - np.logaddexp(0.0, pre)).sum(axis=1)
            out[start:start + m] = N * log_expit(-gap)
        return out

    def _flip_units(self, rows: Any) -> np.ndarray:
        """The unit each row's pseudo-likelihood flips: a SplitMix64-based
        hash of the row's nonzero (column, float64 value) pairs, keyed by
        ``_score_key``. Zeros do not count, so a dense row and its sparse
        form agree."""
        m, N = rows.shape
        if sp.issparse(rows):  # CSR in canonical format
            row_of = np.repeat(np.arange(m), np.diff(rows.indptr))
            cols, values = rows.indices, rows.data
            keep = values != 0
            row_of, cols, values = row_of[keep], cols[keep], values[keep]
        else:
            row_of, cols = np.nonzero(rows)  # row-major order
            values = rows[row_of, cols]
        key = np.asarray([self._score_key], dtype=np.uint64)
        column_keys = _mix(np.arange(N, dtype=np.uint64) * _GOLDEN + key)
        bits = np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
        entry = _mix(bits ^ column_keys[cols])
        # Sum each row's entries (mod 2**64) from a running sum: rows are
        # contiguous in row_of.
        ends = np.cumsum(np.bincount(row_of, minlength=m))
        running = np.concatenate([np.zeros(1, np.uint64), np.cumsum(entry, dtype=np.uint64)])
        sums = running[ends] - running[np.concatenate([[0], ends[:-1]])]
        return (_mix(sums ^ key) % np.uint64(N)).astype(np.intp)

    # -- tags ---------------------------------------------------------------

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _more_tags(self) -> dict:  # scikit-learn < 1.6
        return {"preserves_dtype": [np.float64, np.float32]}


class GaussianBernoulliRBM(BernoulliRBM):
    """Gaussian-Bernoulli RBM for scikit-learn: real-valued visible units
    with a learned standard deviation each (Cho, Ilin & Raiko 2011), binary
    hidden units, trained by crbm's kernels.

    The same estimator as :class:`BernoulliRBM` (persistent contrastive
    divergence, ``batch_size`` chains, the data in order) for data that is
    not binary: ``v | h ~ N(intercept_visible_ + h @ components_,
    visible_std_**2)`` and ``p(h | v) = sigmoid(intercept_hidden_ + (v /
    visible_std_**2) @ components_.T)``. Standardise the data first (for
    example with :class:`sklearn.preprocessing.StandardScaler` in a
    ``Pipeline``): the model starts at ``visible_std_ = 1``.

    Parameters
    ----------
    n_components : int, default=256
        Number of binary hidden units.
    learning_rate : float, default=0.001
        Learning rate; real-valued data wants a smaller one than binary data.
    batch_size : int, default=10
        Number of examples per minibatch, and of persistent chains.
    n_iter : int, default=10
        Number of passes over the training data in :meth:`fit`.
    verbose : int, default=0
        If not zero, print the mean score and time after every pass.
    random_state : int, RandomState instance or None, default=None
        Seeds crbm's generator. Pass an int for reproducible results.
    k : int, default=1
        Gibbs sweeps of the persistent chains per update (PCD-k).
    momentum : float, default=0.0
        Momentum in [0, 1) of the parameter updates.
    weight_decay : float, default=0.0
        L2 penalty on the weights.
    learn_std : bool, default=True
        Learn the visible standard deviations; False keeps them at 1.
    min_std : float, default=0.01
        The smallest standard deviation training may reach.

    Attributes
    ----------
    components_, intercept_hidden_, intercept_visible_, h_samples_, n_features_in_,
    feature_names_in_
        As for :class:`BernoulliRBM`.
    visible_std_ : ndarray of shape (n_features,)
        Standard deviations of the visible units.

    Examples
    --------
    >>> import numpy as np
    >>> from crbm.sklearn import GaussianBernoulliRBM
    >>> X = np.random.default_rng(0).normal(size=(100, 4))
    >>> model = GaussianBernoulliRBM(n_components=3, n_iter=2, random_state=0).fit(X)
    >>> model.transform(X).shape, model.visible_std_.shape
    ((100, 3), (4,))
    """

    _parameter_constraints: dict = {
        **BernoulliRBM._parameter_constraints,
        "learn_std": ["boolean"],
        "min_std": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, n_components: int = 256, *, learning_rate: float = 0.001,
                 batch_size: int = 10, n_iter: int = 10, verbose: int = 0,
                 random_state: Any = None, k: int = 1, momentum: float = 0.0,
                 weight_decay: float = 0.0, learn_std: bool = True,
                 min_std: float = 0.01) -> None:
        super().__init__(n_components, learning_rate=learning_rate, batch_size=batch_size,
                         n_iter=n_iter, verbose=verbose, random_state=random_state, k=k,
                         momentum=momentum, weight_decay=weight_decay)
        self.learn_std = learn_std
        self.min_std = min_std

    _score_name = "negative free energy"

    def _units(self) -> Gaussian:
        return Gaussian(learn_std=bool(self.learn_std), min_std=float(self.min_std))

    def _initialize(self, n_features: int, dtype: np.dtype,
                    generator: np.random.Generator) -> None:
        super()._initialize(n_features, dtype, generator)
        self.visible_std_ = np.ones(n_features, dtype=dtype)

    def _rbm(self) -> RBM:
        rbm = super()._rbm()
        rbm.visible_std = np.maximum(np.asarray(self.visible_std_, dtype=self._dtype()),
                                     self.min_std)
        return rbm

    def _after_training(self, rbm: RBM) -> None:
        self.visible_std_ = rbm.visible_std

    def _log_var(self) -> np.ndarray:
        return (2 * np.log(np.asarray(self.visible_std_, dtype=np.float64))).astype(self._dtype())

    def _mean_hiddens(self, X: Any) -> np.ndarray:
        if sp.issparse(X):
            X = X.toarray()
        return super()._mean_hiddens(np.asarray(X))

    def _sample_visibles(self, h: Any, rng: Any) -> np.ndarray:
        """States of ``v ~ N(E[v | h], visible_std_^2)``, from ``rng.standard_normal``."""
        rows = np.ascontiguousarray(np.atleast_2d(h), dtype=self._dtype())
        means = self._conditional(rows, hidden=False)
        means = means[0] if np.ndim(h) == 1 else means
        return means + self.visible_std_ * rng.standard_normal(size=means.shape)

    def gibbs(self, v: Any) -> np.ndarray:
        """One Gibbs step, ``h ~ p(h | v)`` then ``v ~ p(v | h)``.

        Returns
        -------
        v_new : ndarray of shape (n_samples, n_features)
            Real-valued visible states, in the model's dtype.
        """
        check_is_fitted(self)
        v = validate_data(self, v, accept_sparse="csr", reset=False, dtype=_INPUT_DTYPES)
        h = self._mean_hiddens(v)
        _loops.sample_in_place(self._generator, h)
        means = self._conditional(h, hidden=False)
        _loops.add_gaussian_noise(self._generator, means, self._log_var())
        return means

    def score_samples(self, X: Any) -> np.ndarray:
        """The negative free energy of each row: ``log p(v)`` up to the
        model's log partition function, a constant (so rows compare, and
        the mean tracks the log-likelihood).

        Returns
        -------
        score : ndarray of shape (n_samples,), float64
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", reset=False, dtype=_INPUT_DTYPES)
        if sp.issparse(X):
            X = X.toarray()
        W = np.asarray(self.components_, dtype=np.float64).T
        b = np.asarray(self.intercept_visible_, dtype=np.float64)
        c = np.asarray(self.intercept_hidden_, dtype=np.float64)
        log_var = 2 * np.log(np.asarray(self.visible_std_, dtype=np.float64))
        units = self._units()
        out = np.empty(X.shape[0])
        starts = _row_blocks(X.shape[0], max(X.shape[1], W.shape[1]))
        for start in starts:
            rows = np.asarray(X[start:start + starts.step], dtype=np.float64)
            field = units.inputs(rows, log_var) @ W
            out[start:start + len(rows)] = (Bernoulli().log_partition(field, c, None)
                                            - units.energy(rows, b, log_var))
        return out


class DBNClassifier(ClassifierMixin, TransformerMixin, BaseEstimator):
    """A deep belief network with labels on top, for scikit-learn.

    :meth:`fit` trains a :class:`crbm.DBN` of layer sizes ``[n_features,
    *hidden_layer_sizes]`` greedily, layer by layer, with one softmax label
    unit per class joined to the top RBM (Hinton, Osindero & Teh 2006); each
    layer takes ``n_iter`` epochs of minibatch CD-``k``, the top one adding
    ``discriminative`` times the gradient of ``log p(y | x)`` (Larochelle &
    Bengio's hybrid objective). :meth:`predict_proba` is the top RBM's exact
    class posterior of the features below it; :meth:`transform` the top
    features with the label summed out. Inputs are values in [0, 1]
    (binarised or greyscale images), dense.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (500, 500)
    learning_rate : float, default 0.05
    batch_size : int, default 100
    n_iter : int, default 10
        Epochs of every layer.
    k : int, default 1
    discriminative : float, default 1.0
        The top RBM's weight on ``log p(y | x)``; 0 trains it generatively.
    random_state : int, RandomState instance or None
    verbose : int
        Print each layer as it starts.

    Attributes
    ----------
    dbn_ : crbm.DBN
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [tuple, list],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "k": [Interval(Integral, 1, None, closed="left")],
        "discriminative": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, hidden_layer_sizes: tuple = (500, 500), *, learning_rate: float = 0.05,
                 batch_size: int = 100, n_iter: int = 10, k: int = 1,
                 discriminative: float = 1.0, random_state: Any = None,
                 verbose: int = 0) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.k = k
        self.discriminative = discriminative
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any) -> "DBNClassifier":
        """Train the stack on X (n_samples, n_features) and the classes y."""
        from crbm.models.dbn import DBN
        X, y = validate_data(self, X, y, dtype=_INPUT_DTYPES)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"DBNClassifier needs at least 2 classes, got {len(self.classes_)}")
        sizes = [X.shape[1], *self.hidden_layer_sizes]
        base = dict(learning_rate=float(self.learning_rate), batch_size=int(self.batch_size),
                    k=int(self.k), epochs=int(self.n_iter))
        layers = [base] * (len(sizes) - 2) + [dict(base, discriminative=float(self.discriminative))]
        dbn = DBN(sizes, n_labels=len(self.classes_), dtype=_model_dtype(X),
                  random_state=_generator(self.random_state))
        progress = None
        if self.verbose:
            started: set = set()

            def progress(layer: int, _: int) -> None:
                if layer not in started:
                    started.add(layer)
                    print(f"[DBNClassifier] training layer {layer + 1} of {len(dbn.rbms)}")
        self.dbn_ = dbn.train(X, codes, layers=layers, progress=progress)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=_INPUT_DTYPES)
        return self.dbn_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def transform(self, X: Any) -> np.ndarray:
        """The top layer's features, the label summed out (float64)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=_INPUT_DTYPES)
        return self.dbn_.transform(X)
