"""The ``crbm`` command: train on MNIST, generate digits, run the demo.

Errors a user can cause (a bad path, a corrupt file, a bad value) print one
line ``crbm: error: ...`` and exit with status 1; usage errors exit with 2.
"""
from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

import numpy as np

from crbm.config import show_config
from crbm.io import atomic_write
from crbm.io.persist import ModelFileError
from crbm.io.idx import binarize, load_mnist, read_idx
from crbm.io.images import save_each, save_png, tile_images
from crbm.models._sampling import DEFAULT_STEPS
from crbm.models.dbn import DBN
from crbm.models.rbm import RBM
from crbm.models.units import Units, as_units
from crbm.recipes import RECIPES
from crbm.recipes import split as split_recipe
from crbm.synthetic import glyph_digits

# The demo: small enough to finish well inside a minute on two cores.
# The demo learns to turn noise into glyphs in DEMO_K sweeps (train's
# from_noise), which draws all ten digits; a model trained by CD-1 to an
# equilibrium drew only a few of them after 1,000 Gibbs sweeps.
DEMO_SAMPLES = 4000
DEMO_HIDDEN = 200
DEMO_EPOCHS = 20
DEMO_BATCH = 50
DEMO_K = 20
DEMO_LEARNING_RATE = 0.05
DEMO_DECAY = 0.1


@contextmanager
def progress_bar(total: int, desc: str, enabled: bool,
                 unit: str = "sample") -> Iterator[Optional[Callable[[int], None]]]:
    """Yield an ``update(n)`` callable drawing a tqdm bar, or None without tqdm."""
    try:
        from tqdm import tqdm
    except ImportError:  # the bar is a nicety: work on without it
        enabled = False
    if not enabled:
        yield None
        return
    with tqdm(total=total, desc=desc, unit=unit, unit_scale=True,
              file=sys.stderr, leave=False) as bar:
        yield bar.update


def _bounded(convert: Callable, low: float, high: Optional[float] = None, *,
             open_low: bool = False, open_high: bool = False) -> Callable[[str], float]:
    """An argparse type: ``convert(text)``, finite and within the bounds."""
    lower = f"{'>' if open_low else '>='} {low}"
    wanted = lower if high is None else f"in {'(' if open_low else '['}{low}, {high}{')' if open_high else ']'}"

    def parse(text: str):
        value = convert(text)
        above = value > low if open_low else value >= low
        below = high is None or (value < high if open_high else value <= high)
        if not (np.isfinite(value) and above and below):
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text}")
        return value
    parse.__name__ = convert.__name__  # argparse: "invalid int value: 'x'"
    return parse


_positive_int = _bounded(int, 1)
_non_negative_int = _bounded(int, 0)
_at_least_four = _bounded(int, 4)
_at_least_two = _bounded(int, 2)
_positive_float = _bounded(float, 0, open_low=True)
_non_negative_float = _bounded(float, 0)
_unit_float = _bounded(float, 0, 1)
_sparsity_cost = _bounded(float, 0, 1, open_high=True)


def _shape(text: str) -> tuple[int, int]:
    try:
        h, w = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HxW, e.g. 28x28, got {text!r}") from None
    if h < 1 or w < 1:
        raise argparse.ArgumentTypeError(f"height and width must be >= 1, got {text!r}")
    return h, w


def _layer_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes A,B,..., e.g. 500,500,2000, "
                                         f"got {text!r}") from None
    if any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be >= 1, got {text!r}")
    return sizes


def train_with_progress(model: RBM, data: np.ndarray, *, epochs: int, show: bool,
                        **kwargs) -> float:
    """Train ``model`` on ``data`` with a progress bar showing the latest
    learning-curve figures; return the seconds taken."""
    start = time.perf_counter()
    with progress_bar(epochs * len(data), "training", show) as update:
        on_epoch = None
        if update is not None and kwargs.get("validation") is not None:
            bar = update.__self__

            def on_epoch(record: dict) -> None:
                figures = {"recon": f"{record['validation_reconstruction_error']:.4f}",
                           "gap": f"{record['free_energy_gap']:.2f}"}
                if "pseudo_likelihood" in record:  # binary visible units
                    figures["pl"] = f"{record['pseudo_likelihood']:.4f}"
                bar.set_postfix(figures)
        model.train(data, epochs=epochs, progress=update, on_epoch=on_epoch, **kwargs)
    return time.perf_counter() - start


def import_pyplot():
    """matplotlib's pyplot on the file-only Agg backend, or a clear ImportError."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError('--plot needs matplotlib: pip install "crbm[plot]"') from exc
    return plt


def plot_history(history: list, path: "str | Path") -> None:
    """Draw the learning curves recorded by ``RBM.train(validation=...)``."""
    plt = import_pyplot()
    epochs = [r["epoch"] for r in history]
    panels = 3 if history and "pseudo_likelihood" in history[0] else 2
    figure, axes = plt.subplots(1, panels, figsize=(4.3 * panels, 3.6), constrained_layout=True)
    axes[0].plot(epochs, [r["reconstruction_error"] for r in history], label="training")
    axes[0].plot(epochs, [r["validation_reconstruction_error"] for r in history], label="validation")
    axes[0].set(title="reconstruction error", xlabel="epoch")
    axes[0].legend()
    if panels == 3:
        axes[1].plot(epochs, [r["pseudo_likelihood"] for r in history])
        axes[1].set(title="validation pseudo-log-likelihood per unit", xlabel="epoch")
    axes[-1].plot(epochs, [r["free_energy_gap"] for r in history])
    axes[-1].set(title="free energy gap (validation - training)", xlabel="epoch")
    with atomic_write(path) as f:
        figure.savefig(f, format="png", dpi=100)
    plt.close(figure)


def check_output_directory(path: "str | Path") -> None:
    """Fail before the work, not after it, when the output has nowhere to go."""
    parent = Path(path).parent
    if not parent.is_dir():
        raise FileNotFoundError(f"output directory does not exist: {parent}")


# Command-line flags that override a recipe's settings: flag -> train keyword.
RECIPE_FLAGS = {
    "epochs": "epochs", "batch_size": "batch_size", "learning_rate": "learning_rate", "k": "k",
    "init": "init", "dtype": "dtype", "persistent": "persistent", "from_noise": "from_noise",
    "chains": "n_chains",
    "momentum": "momentum", "weight_decay": "weight_decay", "sparsity_target": "sparsity_target",
    "sparsity_cost": "sparsity_cost", "centering": "centering",
    "learning_rate_decay": "learning_rate_decay", "shuffle": "shuffle",
    "statistics": "statistics", "clamp_labels": "clamp_labels",
    "discriminative": "discriminative",
}


def recipe_settings(args: argparse.Namespace) -> dict:
    """The chosen recipe (by default "gaussian" for --visible gaussian, else
    "default") with every flag the user gave laid over it."""
    if args.recipe is None:
        args.recipe = "gaussian" if args.visible == "gaussian" else "default"
    settings = dict(RECIPES[args.recipe])
    for flag, key in RECIPE_FLAGS.items():
        value = getattr(args, flag)
        if value is not None:
            settings[key] = value
    current = settings.get("visible", "bernoulli")
    visible = args.visible or (current["type"] if isinstance(current, dict) else current)
    if visible == "gaussian":
        spec = dict(current) if isinstance(current, dict) else dict(RECIPES["gaussian"]["visible"])
        if args.min_std is not None:
            spec["min_std"] = args.min_std
        if args.fixed_std:
            spec["learn_std"] = False
        settings["visible"] = spec
    elif args.min_std is not None or args.fixed_std:
        raise ValueError("--min-std and --fixed-std are for --visible gaussian")
    else:
        settings["visible"] = "bernoulli"
    # A flag that picks the negative chains replaces the recipe's choice.
    if args.persistent and args.from_noise is None:
        settings["from_noise"] = False
    if args.from_noise and args.persistent is None:
        settings["persistent"] = False
    if settings.get("n_chains") is not None and not (settings.get("persistent")
                                                     or settings.get("from_noise")):
        raise ValueError(f"--chains needs PCD or --from-noise: the {args.recipe} recipe uses "
                         "neither; add --persistent")
    return settings


def pixels_for(model_or_units: "RBM | Units", images: np.ndarray) -> np.ndarray:
    """The visible rows of MNIST images: binarised (pixel > 0 -> 1) for
    Bernoulli units, greyscale scaled to [0, 1] (pixel / 255, float32) for
    Gaussian ones."""
    units = model_or_units.visible if isinstance(model_or_units, RBM) else model_or_units
    if units.binary:
        return binarize(images)
    return images.reshape(len(images), -1).astype(np.float32) / 255


def load_mnist_arg(mnist: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """``--mnist DIR`` reads a directory; ``--mnist auto`` downloads into the cache."""
    if mnist == "auto":
        from crbm.io.datasets import fetch_mnist  # urllib only when needed
        return fetch_mnist(split=split)
    return load_mnist(mnist, split=split)


def cmd_train(args: argparse.Namespace) -> None:
    check_output_directory(args.out)
    if args.plot is not None:
        check_output_directory(args.plot)
        if not args.validation:
            raise ValueError("--plot draws the validation curves: give --validation N")
        import_pyplot()  # fail now, not after the training
    model_settings, train_settings = split_recipe(recipe_settings(args))
    images, labels = load_mnist_arg(args.mnist, args.split)
    data = pixels_for(as_units(model_settings.get("visible", "bernoulli"), "visible"),
                      images[: args.limit])
    if model_settings.get("n_labels"):
        if args.validation:
            raise ValueError(f"--validation is not available with label units "
                             f"(the {args.recipe} recipe)")
        train_settings["labels"] = labels[: args.limit]
    if args.validation and args.validation >= len(data):
        raise ValueError(f"--validation {args.validation} leaves no training images "
                         f"out of {len(data)}")
    if args.validation:
        data, validation = data[: -args.validation], data[-args.validation:]
    else:
        validation = None
    if args.layers is not None:
        train_stack(args, data, labels[: args.limit], model_settings, train_settings)
        return
    if args.labels:
        raise ValueError("--labels joins the labels to the top of a --layers stack; for one "
                         "RBM use --recipe labelled")
    model = RBM(data.shape[1], args.hidden, random_state=args.seed, **model_settings)
    epochs = train_settings.pop("epochs")
    seconds = train_with_progress(model, data, epochs=epochs, show=not args.quiet,
                                  validation=validation, **train_settings)
    model.save(args.out)
    print(f"trained {model} on {len(data)} images in {seconds:.1f} s "
          f"({args.recipe} recipe); saved {args.out}")
    if args.plot is not None:
        plot_history(model.history, args.plot)
        print(f"learning curves: {args.plot}")


# Training settings that need label units: a stack's lower layers go without.
LABEL_SETTINGS = ("labels", "clamp_labels", "discriminative")


def train_stack(args: argparse.Namespace, data: np.ndarray, labels: np.ndarray,
                model_settings: dict, train_settings: dict) -> None:
    """``crbm train --layers A,B,C [--labels]``: a DBN of the recipe's
    settings in every layer, the labels (and settings that need them) in
    the top one."""
    if args.validation:
        raise ValueError("--validation is for one RBM, not a --layers stack")
    recipe_labels = model_settings.pop("n_labels", 0)
    label_strength = model_settings.pop("label_strength", 1.0)
    n_labels = 10 if args.labels or recipe_labels else 0
    if n_labels:
        train_settings.pop("labels", None)
    elif train_settings.get("clamp_labels") or train_settings.get("discriminative"):
        raise ValueError("--clamp-labels and --discriminative need label units: add --labels")
    dbn = DBN([data.shape[1], *args.layers], n_labels=n_labels, random_state=args.seed,
              **model_settings)
    if n_labels:  # the recipe's label strength is the labelled top RBM's
        dbn.rbms[-1].label_strength = label_strength
    lower = {k: v for k, v in train_settings.items() if k not in LABEL_SETTINGS}
    layers = [lower] * (len(dbn.rbms) - 1) + [train_settings]
    start = time.perf_counter()
    with progress_bar(train_settings["epochs"] * len(data) * len(dbn.rbms), "training",
                      not args.quiet) as update:
        dbn.train(data, labels if n_labels else None, layers=layers,
                  progress=None if update is None else (lambda _, n: update(n)))
    dbn.save(args.out)
    print(f"trained {dbn} on {len(data)} images in {time.perf_counter() - start:.1f} s "
          f"({args.recipe} recipe in every layer); saved {args.out}")


def load_model(path: "str | Path") -> "RBM | DBN":
    """The RBM or DBN (a stack) in a model file."""
    try:
        return RBM.load(path)
    except ModelFileError as exc:
        try:
            return DBN.load(path)
        except ModelFileError:
            raise exc from None


def write_samples(samples: np.ndarray, args: argparse.Namespace) -> None:
    if args.out is not None:
        save_png(args.out, tile_images(samples, args.shape))
        print(f"wrote a grid of {len(samples)} samples to {args.out}")
    if args.each is not None:
        paths = save_each(args.each, samples, args.shape)
        print(f"wrote {len(paths)} images to {args.each}")


def _rows_range(text: str) -> tuple[int, int]:
    try:
        start, stop = (int(part) for part in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected START:STOP, e.g. 0:14, got {text!r}") from None
    if not 0 <= start < stop:
        raise argparse.ArgumentTypeError(f"expected 0 <= START < STOP, got {text!r}")
    return start, stop


def steering(model: RBM, args: argparse.Namespace) -> tuple:
    """``--init IMAGES`` and ``--clamp-rows A:B`` as generate's init and clamp:
    the first -n images as starting states (as pixels_for makes them), image
    rows A to B - 1 of each held at its own pixels."""
    if args.init is None:
        if args.clamp_rows is not None:
            raise ValueError("--clamp-rows holds rows of the --init images: give --init")
        return None, None
    images = read_idx(args.init)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"--init {args.init}: expected uint8 images (n, height, width), "
                         f"got {images.dtype} of shape {images.shape}")
    if images.shape[1] * images.shape[2] != model.n_visible:
        raise ValueError(f"--init {args.init}: images of {images.shape[1]}x{images.shape[2]} "
                         f"pixels, but the model has {model.n_visible} visible units")
    if len(images) < args.n:
        raise ValueError(f"--init {args.init} holds {len(images)} images; -n asks for {args.n}")
    init = pixels_for(model, images[:args.n])
    if args.clamp_rows is None:
        return init, None
    start, stop = args.clamp_rows
    height, width = images.shape[1:]
    if stop > height:
        raise ValueError(f"--clamp-rows {start}:{stop}: the images have {height} rows")
    mask = np.zeros((height, width), bool)
    mask[start:stop] = True
    # Inpainting: the other pixels start from noise, as generate's chains
    # do, so that nothing of the images but the clamped rows reaches them.
    return None, (mask.reshape(-1), init)


def cmd_generate(args: argparse.Namespace) -> None:
    if args.out is None and args.each is None:
        raise ValueError("nothing to write: give --out FILE.png and/or --each DIR")
    if args.out is not None:
        check_output_directory(args.out)
    if args.temperatures is not None and args.method != "tempering":
        raise ValueError("--temperatures is for --method tempering")
    model = load_model(args.model)
    if isinstance(model, DBN):
        generate_from_stack(model, args)
        return
    init, clamp = steering(model, args)
    steps = args.steps if args.steps is not None else (model.sampling_steps or DEFAULT_STEPS)
    with progress_bar(steps, "sampling", not args.quiet, unit="sweep") as update:
        samples = model.generate(args.n, n_steps=steps, init=init, clamp=clamp,
                                 beta=args.beta, method=args.method, label=args.label,
                                 label_strength=args.label_strength,
                                 n_temperatures=args.temperatures, random_state=args.seed,
                                 progress=update)
    if not model.visible.binary:
        # Pictures of Gaussian units show the means E[v | h] of one more
        # half-step (the states carry their noise), in the [0, 1] pixels
        # pixels_for trains on.
        samples = np.clip(model.visible_means(model.sample_hidden(samples)), 0, 1)
    write_samples(samples, args)


def generate_from_stack(dbn: DBN, args: argparse.Namespace) -> None:
    """``crbm generate`` of a DBN file: the top RBM's sampler, one pass down."""
    if args.init is not None or args.clamp_rows is not None:
        raise ValueError("--init and --clamp-rows are for one RBM, not a DBN")
    top = dbn.rbms[-1]
    steps = args.steps if args.steps is not None else (top.sampling_steps or DEFAULT_STEPS)
    with progress_bar(steps, "sampling", not args.quiet, unit="sweep") as update:
        samples = dbn.generate(args.n, label=args.label, label_strength=args.label_strength,
                               n_steps=steps, beta=args.beta,
                               method=args.method, n_temperatures=args.temperatures,
                               random_state=args.seed, progress=update)
    write_samples(samples, args)


def cmd_demo(args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    images, _ = glyph_digits(DEMO_SAMPLES, random_state=args.seed)
    data = images.reshape(len(images), -1)
    save_png(out / "training-data.png", tile_images(data[:100]))
    model = RBM(data.shape[1], DEMO_HIDDEN, init="normal", random_state=args.seed)
    print(f"training {model} on {len(data)} synthetic glyph digits "
          f"({DEMO_EPOCHS} epochs, CD-{DEMO_K} from noise)")
    seconds = train_with_progress(
        model, data, epochs=DEMO_EPOCHS, show=not args.quiet,
        learning_rate=DEMO_LEARNING_RATE, batch_size=DEMO_BATCH, k=DEMO_K, from_noise=True,
        shuffle=True, learning_rate_decay=DEMO_DECAY)
    model.save(out / "model.npz")
    start = time.perf_counter()
    samples = model.generate(100)  # DEMO_K sweeps from noise, as trained
    save_png(out / "samples.png", tile_images(samples))
    print(f"trained in {seconds:.1f} s, generated 100 samples in "
          f"{time.perf_counter() - start:.1f} s; wrote {out}/samples.png, "
          f"{out}/training-data.png and {out}/model.npz")


def cmd_evaluate(args: argparse.Namespace) -> None:
    model = RBM.load(args.model)
    images, _ = load_mnist_arg(args.mnist, args.split)
    data = pixels_for(model, images[: args.limit])
    if data.shape[1] != model.n_visible:
        raise ValueError(f"the model has {model.n_visible} visible units but the images "
                         f"have {data.shape[1]} pixels")
    print(f"{model} on {len(data)} {args.split} images")
    print(f"reconstruction error   {model.reconstruction_error(data):.5f} (mean squared, per pixel)")
    if model.visible.binary:
        print(f"pseudo-log-likelihood  {model.pseudo_likelihood(data, random_state=args.seed):.5f} "
              "(per visible unit)")
    binary_layers = [model.n_hidden] + ([model.n_visible] if model.visible.binary else [])
    density = "" if model.visible.binary else ", a density of pixels in [0, 1]"
    mean_neg_f = float(np.mean(-model.free_energy(data)))
    start = time.perf_counter()
    if min(binary_layers) <= 20:
        log_z = model.log_partition("exact")
        print(f"log Z                  {log_z:.2f} (exact; {time.perf_counter() - start:.1f} s)")
        print(f"log-likelihood         {mean_neg_f - log_z:.2f} nats per image{density}")
        return
    with progress_bar(2 * (args.ais_betas - 1), "AIS", not args.quiet,
                      unit="temperature") as update:
        conservative, optimistic = model.log_likelihood_bracket(
            data, n_runs=args.ais_runs, n_betas=args.ais_betas, random_state=args.seed,
            progress=update)
    print(f"log Z                  {mean_neg_f - optimistic:.2f} by forward AIS, "
          f"{mean_neg_f - conservative:.2f} by reverse AIS ({args.ais_runs} runs x "
          f"{args.ais_betas} temperatures each; {time.perf_counter() - start:.1f} s)")
    print(f"log-likelihood         {conservative:.2f} (conservative, reverse AIS) to "
          f"{optimistic:.2f} (optimistic, forward AIS) nats per image{density}; "
          f"gap {optimistic - conservative:.2f}")
    if conservative > optimistic:
        print("warning: the bracket is inverted. Forward AIS is unbiased in Z, so its figure "
              "stands; reverse AIS started from images that are not like the model's own "
              "samples (modes the data never visits), and its bound does not hold")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crbm", description="Train restricted Boltzmann machines and sample from them.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train", parents=[common], help="train an RBM on MNIST (binarised, or greyscale)",
        description="Train an RBM on MNIST images and save it: binarised (pixel > 0 -> 1) for "
                    "Bernoulli visible units, greyscale scaled to [0, 1] (pixel / 255) for "
                    "Gaussian ones.")
    train.add_argument("--mnist", required=True, metavar="DIR",
                       help="directory holding the MNIST idx files (.gz or plain), or "
                            "'auto': download them once into the cache ($CRBM_DATA, "
                            "else the user cache directory)")
    train.add_argument("--split", choices=("train", "t10k"), default="train",
                       help="which MNIST files to read (default: train)")
    train.add_argument("--limit", type=_positive_int, metavar="N",
                       help="use only the first N images")
    size = train.add_mutually_exclusive_group(required=True)
    size.add_argument("--hidden", type=_positive_int, metavar="M",
                      help="number of hidden units")
    size.add_argument("--layers", type=_layer_sizes, metavar="A,B,...",
                      help="a deep belief network of these hidden layers, trained layer by "
                           "layer with the recipe's settings (e.g. 500,500,2000)")
    train.add_argument("--labels", action="store_true",
                       help="with --layers: join the ten digit labels to the top RBM "
                            "('crbm generate --label D' then makes digit D)")
    train.add_argument("--visible", choices=("bernoulli", "gaussian"),
                       help="visible units (default: the recipe's; bernoulli)")
    train.add_argument("--recipe", choices=sorted(RECIPES),
                       help="settings to start from: 'default' (CD-10, lr 0.05, batch 100, "
                            "100 epochs, float32; see crbm.recipes), 'sampling' (CD-20 from noise, "
                            "lr 0.02, 30 epochs: samples of every digit in 20 sweeps), "
                            "'labelled' (the same with ten label units: 'crbm generate "
                            "--label D' makes digit D), "
                            "'reference' (per-sample "
                            "CD-1, lr 0.01, 3 epochs, the reference experiment) or 'gaussian' "
                            "(the default with --visible gaussian: PCD from each pixel's mean and "
                            "standard deviation, lr 1e-4, 20 epochs); "
                            "the flags below override single settings")
    tuning = train.add_argument_group("tuning (defaults come from the recipe)")
    tuning.add_argument("--epochs", type=_positive_int, help="passes over the data")
    tuning.add_argument("--batch-size", type=_positive_int,
                        help="samples per update; 1 with no other option = per-sample CD")
    tuning.add_argument("--learning-rate", type=_positive_float, help="step size")
    tuning.add_argument("-k", type=_positive_int, help="Gibbs steps per update (CD-k, PCD-k)")
    tuning.add_argument("--init", choices=("zeros", "normal"), help="initial parameters")
    tuning.add_argument("--dtype", choices=("float64", "float32"), help="precision")
    tuning.add_argument("--persistent", action=argparse.BooleanOptionalAction,
                        help="persistent contrastive divergence (PCD)")
    tuning.add_argument("--from-noise", action=argparse.BooleanOptionalAction,
                        help="non-equilibrium CD-k: negative chains start from noise every "
                             "update, and 'crbm generate' then runs k sweeps from noise")
    tuning.add_argument("--chains", type=_positive_int,
                        help="PCD or --from-noise chains (default: batch size)")
    tuning.add_argument("--momentum", type=_unit_float, help="momentum (whole run)")
    tuning.add_argument("--weight-decay", type=_non_negative_float, help="L2 weight decay")
    tuning.add_argument("--sparsity-target", type=_unit_float, help="target hidden activation")
    tuning.add_argument("--sparsity-cost", type=_sparsity_cost,
                        help="strength of the sparsity term in [0, 1) (0: off)")
    tuning.add_argument("--centering", action=argparse.BooleanOptionalAction,
                        help="centered gradient (Melchior et al. 2016)")
    tuning.add_argument("--learning-rate-decay", type=_non_negative_float,
                        help="epoch e uses lr / (1 + decay * e)")
    tuning.add_argument("--shuffle", action=argparse.BooleanOptionalAction,
                        help="new sample order every epoch")
    tuning.add_argument("--statistics", choices=("probabilities", "states"),
                        help="hidden statistics: p(h|v) or sampled states")
    tuning.add_argument("--clamp-labels", action=argparse.BooleanOptionalAction,
                        help="label units (the labelled recipe): negative chains keep the "
                             "data's labels, as 'crbm generate --label D' samples")
    tuning.add_argument("--discriminative", type=_non_negative_float, metavar="W",
                        help="label units: add W times the gradient of log p(label | image) "
                             "(Larochelle & Bengio's hybrid objective; 0: off)")
    tuning.add_argument("--min-std", type=_positive_float,
                        help="Gaussian visible units: the smallest standard deviation")
    tuning.add_argument("--fixed-std", action="store_true",
                        help="Gaussian visible units: keep each standard deviation at 1")
    train.add_argument("--validation", type=_positive_int, metavar="N",
                       help="hold the last N images out and record learning curves on them")
    train.add_argument("--plot", metavar="FILE.png",
                       help="draw the learning curves (needs --validation and matplotlib)")
    train.add_argument("--seed", type=int, help="random seed, for a reproducible run")
    train.add_argument("--out", required=True, metavar="MODEL.npz", help="where to save the model")
    train.set_defaults(run=cmd_train)

    generate = commands.add_parser(
        "generate", parents=[common], help="generate samples from a saved model as PNG images",
        description="Run Gibbs chains from random states (or --init images, with --clamp-rows "
                    "held) and write the final samples as PNG.")
    generate.add_argument("--model", required=True, metavar="MODEL.npz", help="a model saved by 'crbm train'")
    generate.add_argument("-n", type=_positive_int, default=100, help="number of samples (default: 100)")
    generate.add_argument("--steps", type=_non_negative_int,
                          help="sweeps per chain (default: the k a --from-noise model was "
                               "trained with, else 1000)")
    generate.add_argument("--method", choices=("gibbs", "tempering"), default="gibbs",
                          help="block Gibbs sampling, or parallel tempering (default: gibbs)")
    generate.add_argument("--temperatures", type=_positive_int, metavar="R",
                          help="tempering: rungs of the temperature ladder (default: 20)")
    generate.add_argument("--seed", type=int, help="random seed, for reproducible samples")
    generate.add_argument("--shape", type=_shape, metavar="HxW",
                          help="image shape (default: square, e.g. 28x28 for 784 units)")
    generate.add_argument("--init", metavar="IMAGES.idx",
                          help="start the chains from the first -n images of an idx file "
                               "(binarised, pixel > 0, for Bernoulli units; pixel / 255 for "
                               "Gaussian ones) instead of random states")
    generate.add_argument("--clamp-rows", type=_rows_range, metavar="START:STOP",
                          help="hold image rows START to STOP - 1 of each --init image at its "
                               "own pixels and sample the rest from noise (inpainting)")
    generate.add_argument("--label", type=int, metavar="D",
                          help="the class to generate, for a model with label units "
                               "('crbm train --recipe labelled')")
    generate.add_argument("--label-strength", type=_positive_float, metavar="S",
                          help="with --label: the value its label unit is clamped to (default: "
                               "the model's label_strength; larger gives samples more like "
                               "the class and less varied)")
    generate.add_argument("--beta", type=_positive_float, default=1.0,
                          help="inverse temperature of the sampled distribution (default: 1)")
    generate.add_argument("--out", metavar="FILE.png", help="write all samples as one grid image")
    generate.add_argument("--each", metavar="DIR", help="write one PNG per sample: DIR/0.png, DIR/1.png, ...")
    generate.set_defaults(run=cmd_generate)

    evaluate = commands.add_parser(
        "evaluate", parents=[common], help="reconstruction error, pseudo- and log-likelihood on MNIST",
        description="Print a model's reconstruction error, pseudo-log-likelihood (Bernoulli "
                    "units) and the log-likelihood of MNIST images, as the model was trained "
                    "on them: exactly when a binary layer has at most 20 units, else "
                    "bracketed by reverse and forward annealed importance sampling (AIS), "
                    "the reverse runs starting from the images.")
    evaluate.add_argument("--model", required=True, metavar="MODEL.npz", help="a saved model")
    evaluate.add_argument("--mnist", required=True, metavar="DIR",
                          help="MNIST idx directory, or 'auto' (downloaded into the cache)")
    evaluate.add_argument("--split", choices=("train", "t10k"), default="t10k",
                          help="which MNIST files to score (default: t10k)")
    evaluate.add_argument("--limit", type=_positive_int, metavar="N", help="use the first N images")
    evaluate.add_argument("--ais-runs", type=_at_least_two, default=100,
                          help="runs of each AIS (default: 100)")
    evaluate.add_argument("--ais-betas", type=_at_least_four, default=14500,
                          help="AIS inverse temperatures (default: 14500, Salakhutdinov & "
                               "Murray's)")
    evaluate.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    evaluate.set_defaults(run=cmd_evaluate)

    demo = commands.add_parser(
        "demo", parents=[common], help="the main job on built-in synthetic digits: train, then generate",
        description="Train on synthetic glyph digits that crbm draws itself (no download; "
                    "not MNIST) and write a grid of 100 generated samples.")
    demo.add_argument("--out", default="crbm-demo", metavar="DIR", help="output directory (default: crbm-demo)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    demo.set_defaults(run=cmd_demo)

    config = commands.add_parser(
        "config", help="print crbm's build, threads and kernel-selection thresholds",
        description="Print what crbm.show_config() prints: the build, the threads and the "
                    "thresholds that choose each kernel.")
    config.set_defaults(run=lambda args: show_config())
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``crbm`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (OSError, ValueError, TypeError, ImportError, OverflowError) as exc:
        print(f"crbm: error: {exc}", file=sys.stderr)
        return 1
    except MemoryError:
        print("crbm: error: out of memory; try fewer samples or smaller settings",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("crbm: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
