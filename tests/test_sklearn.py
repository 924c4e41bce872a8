"""crbm.sklearn.BernoulliRBM: scikit-learn's estimator checks, its semantics
against crbm's numpy reference, and scikit-learn's digits example."""
import inspect
import io
import os
import pickle
import subprocess
import sys
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
sp = pytest.importorskip("scipy.sparse")

from sklearn import datasets  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402
from sklearn.neural_network import BernoulliRBM as SklearnRBM  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import minmax_scale  # noqa: E402
from sklearn.utils import estimator_checks  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import crbm  # noqa: E402
from crbm import reference  # noqa: E402
from crbm.sklearn import BernoulliRBM, DBNClassifier, GaussianBernoulliRBM  # noqa: E402


def binary_data(n=60, width=12, seed=0):
    """Noisy copies of three binary prototypes."""
    rng = np.random.default_rng(seed)
    prototypes = rng.random((3, width)) < 0.5
    return (prototypes[rng.integers(0, 3, n)] ^ (rng.random((n, width)) < 0.1)).astype(np.float64)


# -- scikit-learn's estimator checks -----------------------------------------

@parametrize_with_checks([BernoulliRBM(), GaussianBernoulliRBM()])
def test_sklearn_estimator_checks(estimator, check):
    """Every check of check_estimator passes: none is expected to fail
    (scikit-learn's own BernoulliRBM fails the sample-order and subset
    invariance checks of score_samples)."""
    check(estimator)


# Checks scikit-learn runs on its own estimators beyond check_estimator.
EXTRA_CHECKS = ["check_param_validation", "check_get_feature_names_out_error",
                "check_transformer_get_feature_names_out", "check_set_output_transform"]
PANDAS_CHECKS = ["check_dataframe_column_names_consistency",
                 "check_transformer_get_feature_names_out_pandas",
                 "check_set_output_transform_pandas", "check_global_output_transform_pandas"]


@pytest.mark.parametrize("name", EXTRA_CHECKS + PANDAS_CHECKS)
@pytest.mark.parametrize("cls", [BernoulliRBM, GaussianBernoulliRBM])
def test_sklearn_extra_checks(name, cls):
    if name in PANDAS_CHECKS:
        pytest.importorskip("pandas")
    getattr(estimator_checks, name)(cls.__name__, cls(n_iter=2, random_state=0))


def test_array_api_dispatch_with_numpy_inputs(tmp_path):
    """The array API check that check_estimator skips unless SCIPY_ARRAY_API
    is set before scipy is imported: run it in a fresh interpreter."""
    code = ("from sklearn.utils.estimator_checks import check_array_api_input\n"
            "from crbm.sklearn import BernoulliRBM\n"
            "check_array_api_input('BernoulliRBM', BernoulliRBM(n_iter=2, random_state=0),\n"
            "                      array_namespace='numpy', expect_only_array_outputs=False)\n")
    env = dict(os.environ, SCIPY_ARRAY_API="1")
    # cwd outside the source tree: "python -c" imports from the working directory.
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_import_crbm_does_not_import_sklearn(tmp_path):
    code = "import sys, crbm; assert 'sklearn' not in sys.modules, 'sklearn imported'"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr


# -- the same interface as scikit-learn's --------------------------------------

def test_parameters_and_defaults_are_sklearns_plus_crbm_extras():
    ours = inspect.signature(BernoulliRBM).parameters
    theirs = inspect.signature(SklearnRBM).parameters
    for name, parameter in theirs.items():
        assert ours[name].default == parameter.default and ours[name].kind == parameter.kind
    extras = {name: p.default for name, p in ours.items() if name not in theirs}
    assert extras == {"k": 1, "momentum": 0.0, "weight_decay": 0.0}
    assert BernoulliRBM().get_params() == {**SklearnRBM().get_params(), **extras}
    for method in ("fit", "partial_fit", "transform", "gibbs", "score_samples",
                   "fit_transform", "get_feature_names_out"):
        assert callable(getattr(BernoulliRBM, method))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.uint8, bool])
def test_fitted_attributes_shapes_and_dtypes(dtype):
    X = binary_data().astype(dtype)
    model = BernoulliRBM(n_components=5, batch_size=7, n_iter=2, random_state=0).fit(X)
    expected = np.float32 if dtype == np.float32 else np.float64
    assert model.components_.shape == (5, 12) and model.components_.dtype == expected
    assert model.intercept_hidden_.shape == (5,) and model.intercept_hidden_.dtype == expected
    assert model.intercept_visible_.shape == (12,) and model.intercept_visible_.dtype == expected
    assert model.h_samples_.shape == (7, 5) and model.h_samples_.dtype == expected
    assert set(np.unique(model.h_samples_)) <= {0.0, 1.0}
    assert model.n_features_in_ == 12 and not hasattr(model, "feature_names_in_")
    assert model.transform(X).dtype == expected
    assert model.transform(X).shape == (60, 5)
    assert list(model.get_feature_names_out()) == [f"bernoullirbm{i}" for i in range(5)]


def test_partial_fit_keeps_float32_and_the_first_dtype():
    X = binary_data()
    model = BernoulliRBM(n_components=4, random_state=0)
    assert model.partial_fit(X[:10].astype(np.float32)) is model
    assert model.components_.dtype == np.float32
    model.partial_fit(X[10:20])  # float64 data, float32 model
    assert model.components_.dtype == np.float32 and model.transform(X).dtype == np.float32
    assert BernoulliRBM(n_components=4).partial_fit(X).components_.dtype == np.float64
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[:, :5])


def test_initialisation_is_sklearns():
    """n_iter=0: components ~ N(0, 0.01**2), zero intercepts, zero h_samples_."""
    model = BernoulliRBM(n_components=200, n_iter=0, random_state=0).fit(np.zeros((3, 300)))
    assert abs(model.components_.std() - 0.01) < 3e-4 and abs(model.components_.mean()) < 3e-4
    assert not model.intercept_hidden_.any() and not model.intercept_visible_.any()
    assert model.h_samples_.shape == (10, 200) and not model.h_samples_.any()


def test_feature_names_in_from_a_dataframe():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(binary_data(), columns=[f"pixel{i}" for i in range(12)])
    model = BernoulliRBM(n_components=3, n_iter=1, random_state=0).fit(X)
    assert list(model.feature_names_in_) == list(X.columns)
    with pytest.raises(ValueError, match="feature names"):
        model.transform(X[X.columns[::-1]])


# -- the algorithm: scikit-learn's PCD, in crbm's kernels -----------------------

def reference_fit(X, seed, n_components, learning_rate, batch_size, n_iter, k=1,
                  dtype=np.float64):
    """What fit does, in numpy with crbm's draws (crbm.reference): the
    estimator's initialisation, then scikit-learn's minibatch PCD with
    batch_size chains and the gradient of each phase averaged over its rows."""
    rng = np.random.default_rng(seed)
    n, N = X.shape
    W = np.ascontiguousarray(rng.normal(0.0, 0.01, (n_components, N)).T, dtype=dtype)
    b, c = np.zeros(N, dtype), np.zeros(n_components, dtype)
    rng.integers(0, 2**63)  # the score_samples key
    chains = reference.bernoulli(rng, np.full((batch_size, N), 0.5, dtype))
    for _ in range(n_iter):
        for start in range(0, n, batch_size):
            reference.cd_batch_update(rng, X[start:start + batch_size].astype(dtype), W, b, c,
                                      learning_rate, k, chains=chains)
    return W, b, c, chains


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 1e-4)])
@pytest.mark.parametrize("batch_size, k", [(10, 1), (7, 2), (100, 1)])
def test_fit_is_the_reference_pcd_draw_for_draw(dtype, rtol, batch_size, k):
    X = binary_data(n=45).astype(dtype)
    model = BernoulliRBM(n_components=6, learning_rate=0.05, batch_size=batch_size, n_iter=3,
                         k=k, random_state=5).fit(X)
    W, b, c, chains = reference_fit(X, 5, 6, 0.05, batch_size, 3, k, dtype)
    np.testing.assert_allclose(model.components_, W.T, rtol=rtol, atol=rtol * 1e-2)
    np.testing.assert_allclose(model.intercept_visible_, b, rtol=rtol, atol=rtol * 1e-2)
    np.testing.assert_allclose(model.intercept_hidden_, c, rtol=rtol, atol=rtol * 1e-2)
    assert np.array_equal(model._chains, chains)


def test_any_real_data_is_accepted_as_in_sklearn():
    X = np.random.default_rng(0).normal(0, 3, (40, 5))
    model = BernoulliRBM(n_components=3, n_iter=2, learning_rate=0.01, random_state=0).fit(X)
    W, b, c, _ = reference_fit(X, 0, 3, 0.01, 10, 2)
    np.testing.assert_allclose(model.components_, W.T, rtol=1e-10)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):  # crbm.RBM itself still checks
        crbm.RBM(5, 3).train(X)


@pytest.mark.parametrize("x, dtype", [
    (np.array([[0, 1], [255, 7]], np.int16), np.uint8),
    (np.array([[0, 1], [256, 7]], np.uint16), np.float64),
    (np.array([[-3, 1], [30, 0]], np.int64), np.float64),
    (np.array([[-0.5, 1], [2.5, 0]], np.float16), np.float32),
    (np.array([[-0.5, 1], [2.5, 0]], np.float64), np.float64)])
def test_validation_without_the_unit_interval_keeps_values(x, dtype):
    """The hook crbm.sklearn uses: any finite real values, converted to a
    kernel dtype without loss."""
    from crbm._validation import as_unit_rows
    rows, binary = as_unit_rows(x, "x", 2, allow_1d=False, unit_interval=False)
    assert rows.dtype == dtype and np.array_equal(rows, x) and not binary
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        as_unit_rows(x, "x", 2, allow_1d=False)


def test_same_seed_same_model_and_randomstate_instances():
    X = binary_data()
    a = BernoulliRBM(n_components=4, random_state=3).fit(X)
    b = BernoulliRBM(n_components=4, random_state=3).fit(X)
    assert np.array_equal(a.components_, b.components_)
    assert not np.array_equal(a.components_, BernoulliRBM(n_components=4, random_state=4)
                              .fit(X).components_)
    rs = np.random.RandomState(0)
    model = BernoulliRBM(n_components=4, random_state=rs)
    first = model.fit(X).components_.copy()
    assert not np.array_equal(first, model.fit(X).components_)  # the instance moved on


def test_crbm_extras_change_training():
    X = binary_data(n=200)
    fits = {name: BernoulliRBM(n_components=8, n_iter=5, random_state=0, **kwargs).fit(X)
            for name, kwargs in [("default", {}), ("k", dict(k=3)),
                                 ("momentum", dict(momentum=0.5)),
                                 ("decay", dict(weight_decay=0.5))]}
    base = fits["default"].components_
    for name in ("k", "momentum", "decay"):
        assert not np.allclose(fits[name].components_, base)
    assert np.linalg.norm(fits["decay"].components_) < 0.8 * np.linalg.norm(base)
    W, *_ = reference_fit(X, 0, 8, 0.1, 10, 5, k=3)
    np.testing.assert_allclose(fits["k"].components_, W.T, rtol=1e-10)
    assert fits["momentum"]._velocity is not None


def test_divergence_raises_and_keeps_finite_parameters():
    X = np.random.default_rng(0).normal(0, 1e3, (50, 4)).astype(np.float32)
    model = BernoulliRBM(n_components=3, learning_rate=1e36, random_state=0)
    with pytest.raises(crbm.DivergenceError):
        model.fit(X)
    assert np.all(np.isfinite(model.components_))


def test_verbose_prints_sklearns_progress_lines():
    out = io.StringIO()
    with redirect_stdout(out):
        BernoulliRBM(n_components=3, n_iter=2, verbose=1, random_state=0).fit(binary_data())
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("[BernoulliRBM] Iteration 2, pseudo-likelihood = ")


# -- data handling ----------------------------------------------------------------

def test_uint8_data_is_trained_on_in_place(monkeypatch):
    X = binary_data().astype(np.uint8)
    seen = []
    train = crbm.RBM.train
    monkeypatch.setattr(crbm.RBM, "train",
                        lambda self, samples, *a, **kw: seen.append(samples) or
                        train(self, samples, *a, **kw))
    BernoulliRBM(n_components=3, n_iter=2).fit(X)
    assert len(seen) == 1 and np.shares_memory(seen[0], X)


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_sparse_input_matches_dense_and_is_densified_by_blocks(monkeypatch, fmt):
    X = binary_data(n=95)
    X[:, 3] = 0.5  # not only 0/1
    dense = BernoulliRBM(n_components=5, n_iter=3, batch_size=10, random_state=2).fit(X)
    # Blocks of 20 rows (two minibatches): each training call sees <= 20 rows.
    import crbm.sklearn as module
    monkeypatch.setattr(module, "_BLOCK_VALUES", 20 * 12)
    sizes = []
    train = crbm.RBM.train
    monkeypatch.setattr(crbm.RBM, "train", lambda self, samples, *a, **kw:
                        sizes.append(len(samples)) or train(self, samples, *a, **kw))
    Xs = sp.csr_matrix(X).asformat(fmt)
    model = BernoulliRBM(n_components=5, n_iter=3, batch_size=10, random_state=2).fit(Xs)
    assert max(sizes) == 20 and sum(sizes) == 3 * 95
    np.testing.assert_allclose(model.components_, dense.components_, rtol=1e-12)
    np.testing.assert_allclose(model.transform(Xs), dense.transform(X), rtol=1e-12)
    np.testing.assert_allclose(model.score_samples(Xs), dense.score_samples(X), rtol=1e-12)
    np.testing.assert_allclose(model.score_samples(sp.csr_array(X)),
                               dense.score_samples(X), rtol=1e-12)


def test_score_samples_of_sparse_rows_with_duplicates_and_explicit_zeros():
    X = binary_data(n=8)
    X[2] = 0  # an empty row
    model = BernoulliRBM(n_components=3, n_iter=1, random_state=0).fit(X)
    # Every value split into two entries, columns in reverse order, and an
    # explicit zero per row: the same matrix in non-canonical CSR.
    data, indices, indptr = [], [], [0]
    for row in X:
        columns = np.flatnonzero(row)[::-1]
        indices += list(columns) * 2 + [0]
        data += list(row[columns] / 2) * 2 + [0.0]
        indptr.append(len(data))
    messy = sp.csr_matrix((np.array(data), np.array(indices), np.array(indptr)), shape=X.shape)
    assert not messy.has_canonical_format
    np.testing.assert_allclose(model.score_samples(messy), model.score_samples(X), rtol=1e-12)
    assert not messy.has_canonical_format  # the caller's matrix is left alone


# -- score_samples, transform, gibbs -------------------------------------------------

def sklearn_pseudo_likelihood(model, X, flip):
    """scikit-learn's score_samples formula, with given flipped units."""
    W, b, c = model.components_.T, model.intercept_visible_, model.intercept_hidden_

    def free_energy(V):
        return -V @ b - np.logaddexp(0, V @ W + c).sum(axis=1)

    flipped = X.copy()
    rows = np.arange(len(X))
    flipped[rows, flip] = 1 - flipped[rows, flip]
    return -X.shape[1] * np.logaddexp(0, -(free_energy(flipped) - free_energy(X)))


def test_score_samples_is_sklearns_formula_with_a_per_row_flip():
    X = binary_data(n=200)
    model = BernoulliRBM(n_components=6, n_iter=3, random_state=0).fit(X)
    flip = model._flip_units(X)
    np.testing.assert_allclose(model.score_samples(X), sklearn_pseudo_likelihood(model, X, flip),
                               rtol=1e-10)
    # Every unit gets flipped by some row, about uniformly.
    assert np.bincount(flip, minlength=12).min() > 5
    # Order, subsets, duplicates and dtype do not matter; the key does.
    order = np.random.default_rng(1).permutation(200)
    np.testing.assert_array_equal(model.score_samples(X[order]), model.score_samples(X)[order])
    np.testing.assert_array_equal(model.score_samples(X[:1]), model.score_samples(X)[:1])
    np.testing.assert_array_equal(model._flip_units(X.astype(np.float32)), flip)
    other = BernoulliRBM(n_components=6, n_iter=3, random_state=1).fit(X)
    assert np.mean(other._flip_units(X) == flip) < 0.3
    # The same seed gives the same scores on refitting.
    np.testing.assert_array_equal(
        BernoulliRBM(n_components=6, n_iter=3, random_state=0).fit(X).score_samples(X),
        model.score_samples(X))


def test_transform_is_p_h_given_v():
    X = binary_data()
    model = BernoulliRBM(n_components=4, n_iter=2, random_state=0).fit(X)
    expected = 1 / (1 + np.exp(-(X @ model.components_.T + model.intercept_hidden_)))
    np.testing.assert_allclose(model.transform(X), expected, rtol=1e-12)
    np.testing.assert_allclose(model.fit_transform(X), expected, rtol=1e-12)


def test_gibbs_samples_p_v_given_h():
    model = BernoulliRBM(n_components=3, n_iter=0, random_state=0).fit(np.zeros((2, 4)))
    model.components_ = np.zeros((3, 4))  # no weights: v ~ sigmoid(intercept_visible_)
    model.intercept_visible_ = np.array([-2.0, 0.0, 1.5, 3.0])
    v = model.gibbs(np.zeros((20000, 4)))
    assert v.dtype == bool and v.shape == (20000, 4)
    p = 1 / (1 + np.exp(-model.intercept_visible_))
    assert np.all(np.abs(v.mean(axis=0) - p) < 5 * np.sqrt(p * (1 - p) / 20000))
    assert not np.array_equal(v, model.gibbs(np.zeros((20000, 4))))  # the generator moves on
    with pytest.raises(ValueError, match="features"):
        model.gibbs(np.zeros((2, 3)))


# -- scikit-learn integration ---------------------------------------------------------

def test_pipeline_gridsearch_clone_and_pickle():
    X, y = datasets.load_digits(return_X_y=True)
    X, y = X[:500] / 16, y[:500]
    pipe = Pipeline([("rbm", BernoulliRBM(n_components=50, n_iter=10, random_state=0)),
                     ("logistic", LogisticRegression(C=100, max_iter=500))])
    search = GridSearchCV(pipe, {"rbm__learning_rate": [0.05, 0.1],
                                 "rbm__momentum": [0.0, 0.5]}, cv=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings of the logistic regression
        search.fit(X, y)
    assert search.best_score_ > 0.65  # chance is 0.1
    assert search.best_estimator_.score(X, y) > 0.8

    model = search.best_estimator_.named_steps["rbm"]
    copy = clone(model)
    assert copy.get_params() == model.get_params() and not hasattr(copy, "components_")
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.transform(X), model.transform(X))
    np.testing.assert_array_equal(restored.score_samples(X), model.score_samples(X))
    # The chains and the generator are saved too: training continues identically.
    restored.partial_fit(X[:10])
    model.partial_fit(X[:10])
    np.testing.assert_array_equal(restored.components_, model.components_)
    np.testing.assert_array_equal(restored.h_samples_, model.h_samples_)


def test_partial_fit_trains_one_minibatch_per_call():
    X = binary_data(n=300)
    model = BernoulliRBM(n_components=8, learning_rate=0.1, random_state=0)
    model.partial_fit(X[:10])
    before = model.score_samples(X).mean()
    for _ in range(5):
        for start in range(0, 300, 10):
            model.partial_fit(X[start:start + 10])
    assert model.score_samples(X).mean() > before + 1
    assert model.h_samples_.shape == (10, 8)


# -- scikit-learn's "RBM features for digit classification" example --------------------

def nudged_digits():
    """The example's data: 8x8 digits and their 1-pixel shifts, scaled to [0, 1]."""
    from scipy.ndimage import convolve
    X, y = datasets.load_digits(return_X_y=True)
    X = np.asarray(X, "float32")
    shifts = [[[0, 1, 0], [0, 0, 0], [0, 0, 0]], [[0, 0, 0], [1, 0, 0], [0, 0, 0]],
              [[0, 0, 0], [0, 0, 1], [0, 0, 0]], [[0, 0, 0], [0, 0, 0], [0, 1, 0]]]
    moved = [np.array([convolve(x.reshape(8, 8), mode="constant", weights=w).ravel()
                       for x in X]) for w in shifts]
    X = minmax_scale(np.concatenate([X] + moved), feature_range=(0, 1))
    return train_test_split(X, np.tile(y, 5), test_size=0.2, random_state=0)


def digits_accuracy(rbm_class, seed, data):
    X_train, X_test, y_train, y_test = data
    # The example's hyperparameters. Its logistic regression has tol=1,
    # which stops newton-cg at iteration 0 (chance accuracy, ~0.10, for
    # either RBM) in current scikit-learn; tol=1e-3 converges in ~10 steps.
    rbm = rbm_class(n_components=100, learning_rate=0.06, n_iter=10, random_state=seed)
    logistic = LogisticRegression(solver="newton-cg", tol=1e-3, C=6000)
    pipe = Pipeline([("rbm", rbm), ("logistic", logistic)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(X_train, y_train)
    assert pipe.named_steps["rbm"].components_.dtype == np.float32  # the example's float32
    return pipe.score(X_test, y_test)


def test_digits_example_accuracy_matches_sklearn():
    """crbm swapped into scikit-learn's example gives the same accuracy within
    noise. Over seeds the test accuracy varies with a standard deviation of
    about 0.013 for both implementations (measured over 6 seeds: crbm
    0.924 +- 0.014, scikit-learn 0.921 +- 0.011), so the difference of
    two 3-seed means has a standard deviation of about 0.011: the 0.03
    tolerance is ~3 of those, while a broken RBM falls towards the
    raw-pixel accuracy (~0.78) or chance."""
    data = nudged_digits()
    ours = [digits_accuracy(BernoulliRBM, seed, data) for seed in range(3)]
    theirs = [digits_accuracy(SklearnRBM, seed, data) for seed in range(3)]
    assert np.mean(ours) > 0.9, ours
    assert abs(np.mean(ours) - np.mean(theirs)) < 0.03, (ours, theirs)


# -- GaussianBernoulliRBM ---------------------------------------------------

def test_gaussian_fit_is_crbms_gaussian_pcd():
    # The estimator trains crbm.RBM(visible="gaussian") with PCD: the same
    # parameters, and visible_std_ from the learned log-variances.
    X = np.random.default_rng(0).normal(size=(80, 6)) * np.linspace(0.5, 2, 6)
    model = GaussianBernoulliRBM(n_components=4, learning_rate=0.01, batch_size=10, n_iter=4,
                                 momentum=0.5, random_state=3).fit(X)
    generator = np.random.default_rng(3)
    components = generator.normal(0.0, 0.01, (4, 6))
    generator.integers(0, 2**63)  # the key of score_samples' row hashes
    rbm = crbm.RBM.from_parameters(components.T, np.zeros(6), np.zeros(4),
                                   visible=crbm.units.Gaussian(), random_state=generator)
    rbm.train(X, 0.01, 4, batch_size=10, persistent=True, n_chains=10, momentum=0.5)
    np.testing.assert_array_equal(model.components_, rbm.W.T)
    np.testing.assert_array_equal(model.visible_std_, rbm.visible_std)
    assert not np.allclose(model.visible_std_, 1)
    np.testing.assert_allclose(model.transform(X), rbm.hidden_probabilities(X), rtol=1e-12)
    np.testing.assert_allclose(model.score_samples(X), -rbm.free_energy(X), rtol=1e-12)
    assert model.gibbs(X[:5]).dtype == np.float64 and model.gibbs(X[:5]).shape == (5, 6)


def test_gaussian_in_a_standardising_pipeline_and_pickled():
    from sklearn.preprocessing import StandardScaler
    X, y = datasets.load_digits(return_X_y=True)
    pipe = Pipeline([("scale", StandardScaler()),
                     ("rbm", GaussianBernoulliRBM(n_components=64, learning_rate=0.005,
                                                  n_iter=10, random_state=0, min_std=0.3)),
                     ("logistic", LogisticRegression(max_iter=1000))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(X[:1200], y[:1200])
    assert pipe.score(X[1200:], y[1200:]) > 0.8  # chance is 0.1
    rbm = pipe.named_steps["rbm"]
    assert rbm.visible_std_.min() >= 0.3
    restored = pickle.loads(pickle.dumps(rbm))
    Z = StandardScaler().fit_transform(X[:50])
    np.testing.assert_array_equal(restored.transform(Z), rbm.transform(Z))
    restored.partial_fit(Z[:10])
    rbm.partial_fit(Z[:10])
    np.testing.assert_array_equal(restored.visible_std_, rbm.visible_std_)


def test_gaussian_fixed_std_and_bad_parameters():
    X = np.random.default_rng(1).normal(size=(40, 3))
    model = GaussianBernoulliRBM(n_components=2, learn_std=False, n_iter=3, random_state=0).fit(X)
    assert np.all(model.visible_std_ == 1)
    with pytest.raises(ValueError, match="min_std"):
        GaussianBernoulliRBM(min_std=0).fit(X)


# -- DBNClassifier -------------------------------------------------------------


def test_dbn_classifier_is_the_labelled_stack_and_searches_in_a_pipeline():
    X, y = datasets.load_digits(return_X_y=True)
    X = minmax_scale(X)
    names = np.array(list("abcdefghij"))[y]        # any class labels
    X_train, X_test, y_train, y_test = train_test_split(X, names, test_size=0.3,
                                                        random_state=0)
    estimator = DBNClassifier((40, 30), learning_rate=0.1, batch_size=20, n_iter=5,
                              random_state=0).fit(X_train, y_train)
    dbn = crbm.DBN([64, 40, 30], n_labels=10, random_state=crbm.sklearn._generator(0))
    layers = [dict(learning_rate=0.1, batch_size=20, k=1, epochs=5)] * 2
    layers[1] = dict(layers[1], discriminative=1.0)
    codes = np.unique(y_train, return_inverse=True)[1]
    dbn.train(X_train, codes, layers=layers)
    np.testing.assert_array_equal(estimator.dbn_.rbms[1]._W, dbn.rbms[1]._W)
    np.testing.assert_allclose(estimator.predict_proba(X_test), dbn.predict_proba(X_test))
    assert estimator.transform(X_test).shape == (len(X_test), 30)
    wide = DBNClassifier((100,), learning_rate=0.1, batch_size=20, n_iter=20, discriminative=5.0,
                         random_state=0).fit(X_train, y_train)
    assert wide.score(X_test, y_test) > 0.9     # seen: 0.944
    search = GridSearchCV(Pipeline([("dbn", DBNClassifier(n_iter=3, batch_size=20,
                                                           random_state=0))]),
                          {"dbn__hidden_layer_sizes": [(20,), (40, 20)]}, cv=2)
    search.fit(X_train, y_train)
    assert search.best_params_["dbn__hidden_layer_sizes"] in [(20,), (40, 20)]
    assert set(search.predict(X_test)) <= set(names)
    with pytest.raises(ValueError, match="2 classes"):
        clone(estimator).fit(X_train, np.zeros(len(X_train)))


@pytest.mark.parametrize("cls", [BernoulliRBM, GaussianBernoulliRBM])
def test_scikit_learns_private_sampling_helpers_draw_the_conditionals(cls):
    # _mean_hiddens, _sample_hiddens and _sample_visibles, as scikit-learn
    # names them (its own tests and some users' code call them), one 1-D
    # row giving one 1-D row.
    rng = np.random.default_rng(0)
    X = (rng.random((60, 12)) < 0.4).astype(np.float64)
    model = cls(n_components=5, n_iter=3, batch_size=10, random_state=0).fit(X)
    p = model._mean_hiddens(X[0])
    assert p.shape == (5,)
    np.testing.assert_allclose(p, model.transform(X[:1])[0], rtol=1e-12)
    draws = np.random.RandomState(1)
    h = np.mean([model._sample_hiddens(X[0], draws) for _ in range(4000)], axis=0)
    np.testing.assert_allclose(h, p, atol=4 * np.sqrt(0.25 / 4000))
    hidden = np.array([1.0, 0, 1, 0, 1])
    means = model._conditional(hidden[None, :].astype(model.components_.dtype), hidden=False)[0]
    v = np.array([model._sample_visibles(hidden, draws) for _ in range(4000)])
    assert v.shape == (4000, 12)
    if cls is BernoulliRBM:
        assert v.dtype == bool
        np.testing.assert_allclose(v.mean(axis=0), means, atol=4 * np.sqrt(0.25 / 4000))
    else:
        spread = model.visible_std_ * 4 / np.sqrt(4000)
        np.testing.assert_array_less(np.abs(v.mean(axis=0) - means), spread)
        np.testing.assert_allclose(v.std(axis=0), model.visible_std_, rtol=0.1)
