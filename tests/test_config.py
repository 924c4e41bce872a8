"""crbm.show_config and the debug log: a user can see the build, the rules and the kernels that ran."""
import io
import logging

import numpy as np

import crbm
from crbm._core import _policy, _rows


def test_config_reports_every_threshold_with_its_value_and_reason():
    info = crbm.config.config()
    assert set(info["thresholds"]) == set(_policy.thresholds()) == set(_policy.REASONS)
    with _policy.override(binary_max_chains=3):
        assert crbm.config.config()["thresholds"]["binary_max_chains"]["value"] == 3
    assert info["thresholds"]["binary_max_chains"]["value"] == _policy.thresholds()["binary_max_chains"]
    assert info["versions"]["crbm"] == crbm.__version__


def test_config_follows_threads_and_the_avx512_switch():
    with crbm.num_threads(1):
        assert crbm.config.config()["threads"]["crbm"] == 1
    build = crbm.config.config()["build"]
    assert build["indices_checked"] in (True, False)
    try:
        _rows._use_avx512(False)
        assert crbm.config.config()["build"]["avx512_sources_in_use"] is False
    finally:
        _rows._use_avx512(True)
    assert crbm.config.config()["build"] == build


def test_show_config_prints_what_config_returns():
    out = io.StringIO()
    crbm.show_config(file=out)
    text = out.getvalue()
    info = crbm.config.config()
    assert text.startswith(f"crbm {crbm.__version__} ")
    assert info["build"]["loops"] in text
    for name, entry in info["thresholds"].items():
        assert f"{name} = {crbm.config._number(entry['value'])}: {entry['reason']}" in text
    assert "parallel_min_work = 1048576:" in text


def test_the_command_line_prints_the_same(capsys):
    from crbm.cli import main
    assert main(["config"]) == 0
    printed = capsys.readouterr().out
    expected = io.StringIO()
    crbm.show_config(file=expected)
    assert printed == expected.getvalue()


def _logged_paths(caplog, call):
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="crbm"):
        call()
    return " ".join(r.getMessage() for r in caplog.records if r.name.startswith("crbm"))


def test_the_debug_log_names_the_kernels_a_call_ran(caplog):
    data = (np.random.default_rng(0).random((64, 30)) < 0.3).astype(np.uint8)
    model = crbm.RBM(30, 8, random_state=0)
    per_sample = _logged_paths(caplog, lambda: model.train(data, 0.01, 1))
    assert per_sample.startswith("train: ") and "per-sample CD, blocks of W" in per_sample
    few = _logged_paths(caplog, lambda: model.generate(4, n_steps=3))
    assert few.startswith("generate: ") and "Gibbs sweeps, blocks of W" in few
    with _policy.override(binary_max_chains=0):
        by_blas = _logged_paths(caplog, lambda: model.generate(4, n_steps=3))
    assert "Gibbs sweeps by BLAS" in by_blas and "blocks of W" not in by_blas
