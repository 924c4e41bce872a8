"""The unit-type layer of the compiled core against crbm.reference and the
formulas of crbm.units: means, sampling at any inverse temperature, clamped
units, inputs into the products, energies and log-partition terms."""
import numpy as np
import pytest

import crbm
from crbm import reference
from crbm._core import _units

BERNOULLI, GAUSSIAN = crbm.units.Bernoulli.kind, crbm.units.Gaussian.kind
KINDS = {"bernoulli": BERNOULLI, "gaussian": GAUSSIAN}
TOL = {np.float32: 1e-5, np.float64: 1e-12}


def layer(dtype, rows=7, width=37, seed=0):
    rng = np.random.default_rng(seed)
    field = rng.normal(0, 2, (rows, width)).astype(dtype)
    bias = rng.normal(0, 1, width).astype(dtype)
    std = rng.uniform(0.2, 3, width).astype(dtype)
    return field, bias, std


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("beta", [1.0, 0.3, 2.5])
def test_sampling_matches_the_reference(dtype, kind, beta):
    field, bias, std = layer(dtype)
    got = field.copy()
    _units.sample(KINDS[kind], 99, 5, got, bias, std, beta)
    expected = reference.units_sample(kind, 99, 5, field, bias, std, beta)
    if kind == "bernoulli":
        np.testing.assert_array_equal(got, expected)
        assert set(np.unique(got)) <= {0, 1}
    else:
        np.testing.assert_allclose(got, expected, rtol=0, atol=50 * np.finfo(dtype).eps)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_layer_sampled_in_blocks_gives_the_whole_layer(dtype, kind):
    # Element (r, j) takes stream position offset + r * width + j: a block of
    # columns at its own offset, as the block kernels draw, gives the same.
    field, bias, std = layer(dtype, rows=1)
    whole = field.copy()
    _units.sample(KINDS[kind], 3, 0, whole, bias, std, 1.0)
    parts = field.copy()
    for lo, hi in [(0, 10), (10, 11), (11, 37)]:
        block = np.ascontiguousarray(parts[:, lo:hi])
        _units.sample(KINDS[kind], 3, lo, block, bias, std, 1.0, first=lo)
        parts[:, lo:hi] = block
    np.testing.assert_array_equal(parts, whole)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("shared", [True, False])
def test_clamped_units_keep_their_values_and_the_rest_draw_as_unclamped(dtype, kind, shared):
    field, bias, std = layer(dtype)
    rng = np.random.default_rng(1)
    mask = (rng.random((1 if shared else 7, 37)) < 0.4).astype(np.uint8)
    values = rng.normal(0, 1, mask.shape).astype(dtype)
    clamped, free = field.copy(), field.copy()
    _units.sample(KINDS[kind], 11, 0, clamped, bias, std, 0.7, mask=mask, values=values)
    _units.sample(KINDS[kind], 11, 0, free, bias, std, 0.7)
    on = np.broadcast_to(mask, clamped.shape) != 0
    np.testing.assert_array_equal(clamped[on], np.broadcast_to(values, clamped.shape)[on])
    np.testing.assert_array_equal(clamped[~on], free[~on])
    expected = reference.units_sample(kind, 11, 0, field, bias, std, 0.7, mask, values)
    np.testing.assert_allclose(clamped, expected, rtol=0, atol=50 * np.finfo(dtype).eps)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tempered_sampling_has_the_tempered_distribution(dtype):
    # Bernoulli: frequency sigmoid(beta (a + b)); Gaussian: variance sigma^2 / beta.
    n, beta = 200_000, 0.25
    field = np.zeros((1, n), dtype)
    bias, std = np.full(n, 1.5, dtype), np.full(n, 2.0, dtype)
    states = field.copy()
    _units.sample(BERNOULLI, 5, 0, states, bias, std, beta)
    p = 1 / (1 + np.exp(-beta * 1.5))
    assert abs(states.mean() - p) < 5 * np.sqrt(p * (1 - p) / n)
    states = field.copy()
    _units.sample(GAUSSIAN, 5, 0, states, bias, std, beta)
    assert abs(states.mean() - 1.5) < 5 * np.sqrt(4 / beta / n)
    assert abs(states.var() / (4 / beta) - 1) < 5 * np.sqrt(2 / n)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_drawing_from_means_is_sampling_from_fields(dtype, kind):
    field, bias, std = layer(dtype)
    sampled = field.copy()
    _units.sample(KINDS[kind], 8, 2, sampled, bias, std, 1.0)
    means = field.copy()
    _units.mean(KINDS[kind], means, bias, 1.0)
    _units.draw(KINDS[kind], 8, 2, means, bias, std, 1.0)
    np.testing.assert_array_equal(means, sampled)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_means_inputs_energies_and_partitions_match_the_unit_formulas(dtype, kind):
    field, bias, std = layer(dtype)
    units = crbm.units.Bernoulli() if kind == "bernoulli" else crbm.units.Gaussian()
    log_var = 2 * np.log(std.astype(np.float64))
    precision = np.exp(-log_var).astype(dtype)
    f64, b64 = field.astype(np.float64), bias.astype(np.float64)
    for beta in (1.0, 0.5):
        means = field.copy()
        _units.mean(KINDS[kind], means, bias, beta)
        np.testing.assert_allclose(means, units.mean(f64, b64, log_var, beta), rtol=TOL[dtype],
                                   atol=TOL[dtype])
    states = (field > 0).astype(dtype) if kind == "bernoulli" else field
    s64 = states.astype(np.float64)
    np.testing.assert_allclose(_units.inputs(KINDS[kind], states, bias, precision),
                               units.inputs(s64, log_var), rtol=TOL[dtype])
    np.testing.assert_allclose(_units.energy(KINDS[kind], states, bias, precision),
                               units.energy(s64, b64, log_var), rtol=10 * TOL[dtype])
    log_norm = 0.5 * (np.log(2 * np.pi) + log_var).sum()
    np.testing.assert_allclose(
        _units.log_partition(KINDS[kind], field, bias, precision, log_norm),
        units.log_partition(f64, b64, log_var), rtol=10 * TOL[dtype])


def test_the_gaussian_log_partition_is_the_integral_over_v():
    # log of the integral of exp(-(v - b)^2 / 2 s^2 + v a / s^2) dv, by quadrature.
    from scipy import integrate
    b, s, a = 0.7, 1.3, -0.4
    value, _ = integrate.quad(lambda v: np.exp(-(v - b) ** 2 / (2 * s * s) + v * a / s ** 2),
                              -30, 30)
    units = crbm.units.Gaussian()
    got = units.log_partition(np.array([[a]]), np.array([b]), np.array([2 * np.log(s)]))
    np.testing.assert_allclose(got, np.log(value), rtol=1e-10)


def test_unit_types_check_their_settings_and_round_trip():
    assert crbm.units.Gaussian(learn_std=False, min_std=0.5).spec() == {
        "type": "gaussian", "learn_std": False, "min_std": 0.5, "std_from_data": False}
    # Files written before std_from_data existed name no such key.
    assert crbm.units.from_spec({"type": "gaussian", "learn_std": True, "min_std": 0.1}) == \
        crbm.units.Gaussian(min_std=0.1)
    for units in (crbm.units.Bernoulli(), crbm.units.Bernoulli(strict=False),
                  crbm.units.Gaussian(), crbm.units.Gaussian(learn_std=False, min_std=0.1),
                  crbm.units.Gaussian(std_from_data=True)):
        assert crbm.units.from_spec(units.spec()) == units
    for bad in ({"type": "potts"}, {"type": "gaussian", "min_std": -1},
                {"type": "gaussian", "colour": 1}, "gaussian", None):
        with pytest.raises(ValueError):
            crbm.units.from_spec(bad)
    with pytest.raises(ValueError, match="min_std"):
        crbm.units.Gaussian(min_std=0)
    with pytest.raises(TypeError, match="learn_std"):
        crbm.units.Gaussian(learn_std="yes")
    with pytest.raises(TypeError, match="std_from_data"):
        crbm.units.Gaussian(std_from_data=1)


def test_std_from_data_starts_at_the_data_moments_then_trains():
    rng = np.random.default_rng(0)
    data = rng.normal([0.5, -1.0, 2.0], [0.3, 0.001, 2.0], (400, 3))
    visible = crbm.units.Gaussian(min_std=0.05, std_from_data=True)
    model = crbm.RBM(3, 2, visible=visible, init="normal", random_state=0)
    model.train(data, 1e-12, 1, batch_size=400)  # a step too small to move anything
    np.testing.assert_allclose(model.visible_bias, data.mean(0), rtol=1e-6)
    np.testing.assert_allclose(model.visible_std, np.maximum(data.std(0), 0.05), rtol=1e-6)
    plain = crbm.RBM(3, 2, visible="gaussian", init="normal", random_state=0)
    plain.train(data, 1e-12, 1, batch_size=400)
    np.testing.assert_allclose(plain.visible_std, 1.0, rtol=1e-6)  # the default keeps sigma 1
    model.visible_std = [1.0, 2.0, 3.0]
    model.train(data, 1e-12, 1, batch_size=400)  # only the first train starts from the data
    np.testing.assert_allclose(model.visible_std, [1.0, 2.0, 3.0], rtol=1e-6)
