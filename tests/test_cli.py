"""The crbm command end to end, in a temporary directory."""
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import crbm
from crbm._core import _loops

# A guard against a command that hangs, not a timing: a debug build (-O0,
# bounds checks) runs the demo several times slower than a release one.
TIMEOUT = 1200 if _loops.DEBUG_BUILD else 300


def run(*args, cwd, expect=0):
    command, *rest = map(str, args)
    result = subprocess.run([sys.executable, "-m", "crbm", command, "--quiet", *rest],
                            cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == expect, result.stderr
    return result


def test_console_script_is_installed():
    script = shutil.which("crbm", path=str(Path(sys.executable).parent))
    assert script is not None
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for command in ("train", "generate", "demo"):
        assert command in result.stdout


@pytest.fixture(scope="module")
def trained(tmp_path_factory, mnist_dir):
    tmp = tmp_path_factory.mktemp("cli")
    result = run("train", "--mnist", mnist_dir, "--split", "t10k", "--limit", 300,
                 "--hidden", 20, "--epochs", 2, "--seed", 1, "--out", "model.npz", cwd=tmp)
    assert "300 images" in result.stdout
    return tmp


def test_train_recipes_and_flags_match_the_python_api(tmp_path, mnist_dir):
    images, _ = crbm.load_mnist(mnist_dir, split="t10k")
    data = crbm.binarize(images[:200])
    run("train", "--mnist", mnist_dir, "--split", "t10k", "--limit", 200, "--hidden", 8,
        "--recipe", "reference", "--seed", 5, "--out", "ref.npz", cwd=tmp_path)
    expected = crbm.RBM(784, 8, random_state=5).train(data)  # the reference defaults
    assert np.array_equal(crbm.RBM.load(tmp_path / "ref.npz").W, expected.W)
    run("train", "--mnist", mnist_dir, "--split", "t10k", "--limit", 200, "--hidden", 8,
        "--epochs", 2, "--persistent", "--chains", 7, "--momentum", 0.3, "--centering",
        "--shuffle",
        "--seed", 5, "--out", "tuned.npz", cwd=tmp_path)
    model_settings, train_settings = crbm.recipes.split(crbm.recipes.RECIPES["default"])
    train_settings.update(epochs=2, persistent=True, n_chains=7, momentum=0.3, centering=True,
                          shuffle=True)
    expected = crbm.RBM(784, 8, random_state=5, **model_settings).train(data, **train_settings)
    tuned = crbm.RBM.load(tmp_path / "tuned.npz")
    assert np.array_equal(tuned.W, expected.W) and tuned._chains.shape == (7, 784)


def test_gaussian_visible_units_train_generate_and_evaluate(tmp_path, mnist_dir):
    images, _ = crbm.load_mnist(mnist_dir, split="t10k")
    data = images[:200].reshape(200, -1).astype(np.float32) / 255  # greyscale in [0, 1]
    run("train", "--mnist", mnist_dir, "--split", "t10k", "--limit", 200, "--hidden", 8,
        "--visible", "gaussian", "--epochs", 2, "--min-std", 0.2, "--validation", 50,
        "--plot", "curves.png", "--seed", 5, "--out", "g.npz", cwd=tmp_path)
    model_settings, train_settings = crbm.recipes.split(crbm.recipes.RECIPES["gaussian"])
    model_settings["visible"] = crbm.units.Gaussian(min_std=0.2, std_from_data=True)
    train_settings.update(epochs=2)
    expected = crbm.RBM(784, 8, random_state=5, **model_settings).train(
        data[:150], validation=data[150:], **train_settings)
    model = crbm.RBM.load(tmp_path / "g.npz")
    assert model.visible == crbm.units.Gaussian(min_std=0.2, std_from_data=True)
    np.testing.assert_array_equal(model.W, expected.W)
    np.testing.assert_array_equal(model.visible_std, expected.visible_std)
    run("generate", "--model", "g.npz", "-n", 16, "--steps", 5, "--out", "g.png", cwd=tmp_path)
    assert Image.open(tmp_path / "g.png").size == (4 * 29 - 1, 4 * 29 - 1)
    result = run("evaluate", "--model", "g.npz", "--mnist", mnist_dir, "--limit", 100,
                 cwd=tmp_path)
    assert "density" in result.stdout and "pseudo" not in result.stdout
    result = run("train", "--mnist", mnist_dir, "--hidden", 4, "--fixed-std", "--out", "m.npz",
                 cwd=tmp_path, expect=1)
    assert "--visible gaussian" in result.stderr


def test_train_with_validation_plots_learning_curves(tmp_path, mnist_dir):
    run("train", "--mnist", mnist_dir, "--split", "t10k", "--limit", 600, "--hidden", 16,
        "--epochs", 3, "--validation", 100, "--plot", "curves.png", "--out", "m.npz", cwd=tmp_path)
    model = crbm.RBM.load(tmp_path / "m.npz")
    assert [r["epoch"] for r in model.history] == [1, 2, 3]
    assert Image.open(tmp_path / "curves.png").size[0] > 500
    result = run("train", "--mnist", mnist_dir, "--hidden", 4, "--plot", "c.png",
                 "--out", "m.npz", cwd=tmp_path, expect=1)
    assert "--validation" in result.stderr


def test_train_writes_a_loadable_model(trained):
    model = crbm.RBM.load(trained / "model.npz")
    assert (model.n_visible, model.n_hidden) == (784, 20)
    assert np.abs(model.W).max() > 0


def test_generate_grid_and_each(trained):
    run("generate", "--model", "model.npz", "-n", 5, "--steps", 20, "--seed", 3,
        "--out", "grid.png", "--each", "each", cwd=trained)
    grid = np.asarray(Image.open(trained / "grid.png"))
    assert grid.dtype == np.uint8 and grid.ndim == 2
    # 5 tiles of 28x28 in a 3-column, 2-row grid, 1 pixel between tiles.
    assert grid.shape == (2 * 28 + 1, 3 * 28 + 2)
    names = sorted(p.name for p in (trained / "each").iterdir())
    assert names == [f"{i}.png" for i in range(5)]
    first = np.asarray(Image.open(trained / "each" / "0.png"))
    assert first.shape == (28, 28) and set(np.unique(first)) <= {0, 255}


def test_generate_is_reproducible_with_a_seed(trained):
    for name in ("a.png", "b.png"):
        run("generate", "--model", "model.npz", "-n", 4, "--steps", 10, "--seed", 9,
            "--out", name, cwd=trained)
    assert (trained / "a.png").read_bytes() == (trained / "b.png").read_bytes()


def test_generate_inpaints_from_init_images_with_clamped_rows(trained, mnist_dir):
    images, _ = crbm.load_mnist(mnist_dir, split="t10k")
    crbm.write_idx(trained / "start.idx", images[:6])
    run("generate", "--model", "model.npz", "-n", 4, "--steps", 15, "--seed", 2,
        "--init", "start.idx", "--clamp-rows", "0:14", "--beta", 0.8, "--each", "inpainted",
        cwd=trained)
    model = crbm.RBM.load(trained / "model.npz")
    start = crbm.binarize(images[:4]).astype(model.dtype)
    mask = np.zeros((28, 28), bool)
    mask[:14] = True
    expected = model.generate(4, n_steps=15, clamp=(mask.reshape(-1), start), beta=0.8,
                              random_state=2)
    for i in range(4):
        got = np.asarray(Image.open(trained / "inpainted" / f"{i}.png"))
        np.testing.assert_array_equal(got, (expected[i].reshape(28, 28) * 255).astype(np.uint8))
        np.testing.assert_array_equal(got[:14] > 0, images[i, :14] > 0)  # the clamped rows
    for bad, message in ((["--clamp-rows", "0:14"], "give --init"),
                         (["--init", "start.idx", "-n", 7], "holds 6 images"),
                         (["--init", "start.idx", "-n", 2, "--clamp-rows", "10:40"], "28 rows")):
        result = run("generate", "--model", "model.npz", "--steps", 1, "--out", "x.png", *bad,
                     cwd=trained, expect=1)
        assert message in result.stderr
    assert not (trained / "x.png").exists()


def test_generate_with_tempering_matches_the_python_api(trained):
    run("generate", "--model", "model.npz", "-n", 3, "--steps", 12, "--seed", 4,
        "--method", "tempering", "--temperatures", 5, "--each", "tempered", cwd=trained)
    model = crbm.RBM.load(trained / "model.npz")
    expected = model.generate(3, n_steps=12, method="tempering", n_temperatures=5,
                              random_state=4)
    for i in range(3):
        got = np.asarray(Image.open(trained / "tempered" / f"{i}.png"))
        np.testing.assert_array_equal(got, (expected[i].reshape(28, 28) * 255).astype(np.uint8))
    result = run("generate", "--model", "model.npz", "--temperatures", 5, "--out", "x.png",
                 cwd=trained, expect=1)
    assert "--method tempering" in result.stderr and not (trained / "x.png").exists()


def cli_and_api_models(recipe, tmp_path, mnist_dir, data, flags=(), **train):
    """``crbm train --recipe RECIPE [flags]`` for one epoch of the first 200
    t10k images, and the same training through the Python API (``train``:
    the flags' keywords and the labels)."""
    run("train", "--mnist", mnist_dir, "--split", "t10k", "--limit", 200, "--hidden", 8,
        "--recipe", recipe, "--epochs", 1, "--seed", 5, "--out", "m.npz", *flags, cwd=tmp_path)
    model_settings, train_settings = crbm.recipes.split(crbm.recipes.RECIPES[recipe])
    train_settings.update(epochs=1, **train)
    expected = crbm.RBM(784, 8, random_state=5, **model_settings).train(data, **train_settings)
    return crbm.RBM.load(tmp_path / "m.npz"), expected


def test_sampling_recipe_matches_the_python_api(tmp_path, mnist_dir):
    images, _ = crbm.load_mnist(mnist_dir, split="t10k")
    data = crbm.binarize(images[:200])
    got, expected = cli_and_api_models("sampling", tmp_path, mnist_dir, data)
    assert np.array_equal(got.W, expected.W) and got.sampling_steps == 20


def test_labelled_recipe_trains_on_the_labels_and_generates_a_digit(tmp_path, mnist_dir):
    images, labels = crbm.load_mnist(mnist_dir, split="t10k")
    data = crbm.binarize(images[:200])
    got, expected = cli_and_api_models("labelled", tmp_path, mnist_dir, data,
                                       labels=labels[:200])
    assert got.n_labels == 10 and np.array_equal(got.label_weights, expected.label_weights)
    assert got.label_strength == crbm.recipes.RECIPES["labelled"]["label_strength"] != 1
    for flags, strength in (((), None), (("--label-strength", 3), 3.0)):
        run("generate", "--model", "m.npz", "-n", 2, "--label", 7, "--seed", 1, "--each", "s",
            *flags, cwd=tmp_path)
        want = got.generate(2, label=7, label_strength=strength, random_state=1)
        image = np.asarray(Image.open(tmp_path / "s" / "0.png"))
        np.testing.assert_array_equal(image, (want[0].reshape(28, 28) * 255).astype(np.uint8))
    result = run("generate", "--model", "m.npz", "--label", 10, "--out", "x.png", cwd=tmp_path,
                 expect=1)
    assert "label must lie in [0, 10)" in result.stderr


def test_label_flags_reach_the_training(tmp_path, mnist_dir):
    images, labels = crbm.load_mnist(mnist_dir, split="t10k")
    data = crbm.binarize(images[:200])
    got, expected = cli_and_api_models(
        "labelled", tmp_path, mnist_dir, data, flags=("--discriminative", 2, "--no-clamp-labels"),
        labels=labels[:200], discriminative=2.0, clamp_labels=False)
    assert np.array_equal(got.label_weights, expected.label_weights)
    result = run("train", "--mnist", mnist_dir, "--split", "t10k", "--limit", 20, "--hidden", 4,
                 "--discriminative", 1, "--out", "plain.npz", cwd=tmp_path, expect=1)
    assert "label units" in result.stderr and not (tmp_path / "plain.npz").exists()


def test_train_from_noise_then_generate_runs_k_sweeps(tmp_path, mnist_dir):
    run("train", "--mnist", mnist_dir, "--split", "t10k", "--limit", 200, "--hidden", 8,
        "--epochs", 1, "--from-noise", "-k", 6, "--seed", 5, "--out", "noise.npz", cwd=tmp_path)
    model = crbm.RBM.load(tmp_path / "noise.npz")
    assert model.sampling_steps == 6 and model.training_state["chains"].shape == (100, 784)
    run("generate", "--model", "noise.npz", "-n", 2, "--seed", 1, "--each", "s", cwd=tmp_path)
    expected = model.generate(2, n_steps=6, random_state=1)
    got = np.asarray(Image.open(tmp_path / "s" / "1.png"))
    np.testing.assert_array_equal(got, (expected[1].reshape(28, 28) * 255).astype(np.uint8))


def test_evaluate_prints_the_figures(trained, mnist_dir):
    result = run("evaluate", "--model", "model.npz", "--mnist", mnist_dir, "--limit", 300,
                 cwd=trained)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("RBM(n_visible=784, n_hidden=20") and "300 t10k images" in lines[0]
    figures = {line.split()[0]: line for line in lines[1:]}
    assert set(figures) == {"reconstruction", "pseudo-log-likelihood", "log", "log-likelihood"}
    assert "exact" in figures["log"]
    log_likelihood = float(figures["log-likelihood"].split()[1])
    assert -784 * np.log(2) + 50 < log_likelihood < -100  # well above the untrained model


def test_evaluate_uses_ais_for_large_models(tmp_path, mnist_dir):
    crbm.RBM(784, 21, init="normal", random_state=0).save(tmp_path / "m.npz")
    result = run("evaluate", "--model", "m.npz", "--mnist", mnist_dir, "--limit", 100,
                 "--ais-betas", 300, "--ais-runs", 50, cwd=tmp_path)
    assert "50 runs x 300 temperatures each" in result.stdout
    line = next(line for line in result.stdout.splitlines() if line.startswith("log-lik"))
    conservative, optimistic, gap = (float(line.split()[i].rstrip(";")) for i in (1, 6, -1))
    model = crbm.RBM.load(tmp_path / "m.npz")
    images, _ = crbm.load_mnist(mnist_dir, split="t10k")
    expected = model.log_likelihood_bracket(crbm.binarize(images[:100]), n_runs=50,
                                            n_betas=300, random_state=0)
    assert (conservative, optimistic) == pytest.approx(expected, abs=0.006)
    assert gap == pytest.approx(optimistic - conservative, abs=0.011)


def test_demo_runs_the_main_job(tmp_path):
    result = run("demo", "--out", "out", cwd=tmp_path)
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} == {"samples.png", "training-data.png", "model.npz"}
    samples = np.asarray(Image.open(out / "samples.png"))
    assert samples.shape == (10 * 28 + 9, 10 * 28 + 9)
    assert "trained in" in result.stdout
    # The picture shows the digits: a classifier of the glyphs (99.5% right on
    # new ones) reads at least 8 of the 10 in it, each in >= 2 tiles with
    # probability >= 0.9.
    from sklearn.linear_model import LogisticRegression

    from crbm.synthetic import glyph_digits
    images, labels = glyph_digits(4000, random_state=0)
    judge = LogisticRegression(max_iter=300).fit(images.reshape(4000, -1), labels)
    tiles = np.array([samples[29 * r:29 * r + 28, 29 * c:29 * c + 28].reshape(-1) > 127
                      for r in range(10) for c in range(10)], dtype=float)
    p = judge.predict_proba(tiles)
    confident = np.bincount(p.argmax(axis=1)[p.max(axis=1) >= 0.9], minlength=10)
    assert np.sum(confident >= 2) >= 8, confident


@pytest.mark.parametrize("args,message", [
    (["train", "--mnist", "no-such-dir", "--hidden", 5, "--out", "m.npz"], "no-such-dir"),
    (["generate", "--model", "missing.npz", "--out", "x.png"], "missing.npz"),
    (["generate", "--model", "corrupt.npz", "--out", "x.png"], "corrupt.npz"),
    (["generate", "--model", "model.npz"], "nothing to write"),
    (["generate", "--model", "model.npz", "--shape", "7x7", "--out", "x.png"], "shape"),
    (["generate", "--model", "model.npz", "--steps", 3000000000, "--out", "x.png"], "n_steps"),
    (["train", "--mnist", ".", "--hidden", 5, "--out", "nowhere/m.npz"], "nowhere"),
    (["generate", "--model", "model.npz", "--out", "nowhere/x.png"], "nowhere"),
    (["train", "--mnist", ".", "--hidden", 5, "--recipe", "reference", "--chains", 7,
      "--out", "m.npz"], "--persistent"),
])
def test_user_errors_give_one_line_and_status_1(trained, args, message):
    (trained / "corrupt.npz").write_bytes(b"garbage")
    result = run(*args, cwd=trained, expect=1)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("crbm: error:") and message in lines[0]


@pytest.mark.parametrize("args", [
    ["train", "--mnist", "x", "--out", "m.npz"],          # --hidden missing
    ["train", "--mnist", "x", "--hidden", 0, "--out", "m.npz"],
    ["generate", "--model", "m.npz", "-n", "many"],
    ["frobnicate"],
])
def test_usage_errors_exit_2(tmp_path, args):
    result = run(*args, cwd=tmp_path, expect=2)
    assert "usage:" in result.stderr


def test_a_stack_trains_with_labels_on_top_and_generates_a_digit(tmp_path, mnist_dir):
    run("train", "--mnist", mnist_dir, "--split", "t10k", "--limit", 200, "--layers", "12,8",
        "--labels", "--recipe", "labelled", "--epochs", 1, "--seed", 5, "--out", "dbn.npz",
        cwd=tmp_path)
    images, labels = crbm.load_mnist(mnist_dir, split="t10k")
    model_settings, settings = crbm.recipes.split(crbm.recipes.RECIPES["labelled"])
    settings["epochs"] = 1
    lower = {k: v for k, v in settings.items() if k not in ("clamp_labels", "discriminative")}
    model_settings.pop("n_labels")
    strength = model_settings.pop("label_strength")
    expected = crbm.DBN([784, 12, 8], n_labels=10, random_state=5, **model_settings).train(
        crbm.binarize(images[:200]), labels[:200], layers=[lower, settings])
    got = crbm.DBN.load(tmp_path / "dbn.npz")
    assert got.layer_sizes == [784, 12, 8] and got.n_labels == 10
    assert got.rbms[1].label_strength == strength and got.rbms[0].label_strength == 1
    np.testing.assert_array_equal(got.rbms[1].label_weights, expected.rbms[1].label_weights)
    run("generate", "--model", "dbn.npz", "-n", 2, "--label", 3, "--seed", 1, "--each", "s",
        cwd=tmp_path)
    want = got.generate(2, label=3, n_steps=got.rbms[1].sampling_steps, random_state=1)
    image = np.asarray(Image.open(tmp_path / "s" / "1.png"))
    np.testing.assert_array_equal(image, (want[1].reshape(28, 28) * 255).astype(np.uint8))
    result = run("generate", "--model", "dbn.npz", "--init", "x.idx", "--out", "x.png",
                 cwd=tmp_path, expect=1)
    assert "not a DBN" in result.stderr
    result = run("train", "--mnist", mnist_dir, "--split", "t10k", "--limit", 20,
                 "--hidden", 4, "--labels", "--out", "x.npz", cwd=tmp_path, expect=1)
    assert "--layers" in result.stderr and not (tmp_path / "x.npz").exists()
