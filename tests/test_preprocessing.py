"""crbm.preprocessing: explicit standardisation for Gaussian visible units."""
import numpy as np
import pytest

from crbm.preprocessing import Standardizer, column_moments


def test_column_moments_are_numpys_over_blocks():
    X = np.random.default_rng(0).integers(0, 256, (20000, 5)).astype(np.uint8)
    mean, variance = column_moments(X)
    np.testing.assert_allclose(mean, X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(variance, X.astype(float).var(axis=0), rtol=1e-10)


@pytest.mark.parametrize("scale", ["feature", "global"])
def test_standardizer_centres_scales_and_inverts(scale):
    rng = np.random.default_rng(1)
    X = rng.normal(3, 1, (500, 4)) * [1, 2, 4, 8]
    X[:, 0] = 7.0  # a constant feature keeps divisor 1
    s = Standardizer(scale=scale).fit(X)
    Z = s.transform(X, dtype=np.float32)
    assert Z.dtype == np.float32
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-5)
    if scale == "feature":
        np.testing.assert_allclose(Z[:, 1:].std(axis=0), 1, rtol=1e-5)
        assert s.std_[0] == 1
    else:
        assert len(set(s.std_)) == 1
        np.testing.assert_allclose((Z.astype(float) ** 2).mean(), 1, rtol=1e-5)
    np.testing.assert_allclose(s.inverse_transform(s.transform(X)), X, rtol=1e-12)
    np.testing.assert_allclose(Standardizer(scale=scale).fit_transform(X), s.transform(X))


def test_standardizer_checks_its_arguments():
    with pytest.raises(ValueError, match="scale"):
        Standardizer(scale="pixel")
    with pytest.raises(ValueError, match="not fitted"):
        Standardizer().transform(np.zeros((2, 2)))
    s = Standardizer().fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="columns"):
        s.transform(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="NaN"):
        Standardizer().fit(np.array([[np.nan, 1.0]]))
