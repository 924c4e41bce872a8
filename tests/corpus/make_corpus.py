"""Regenerate the fuzzing seed corpus in this directory.

Run ``python tests/corpus/make_corpus.py`` (with crbm importable) after
changing anything below; ``tests/test_fuzz.py`` checks that every file here is
still what :data:`IDX`, :data:`MNIST`, :data:`BAD` and :func:`models` describe,
so the corpus cannot rot silently.

The files are tiny on purpose: hypothesis mutates them thousands of times.

* ``*.idx`` / ``*.idx.gz`` -- valid idx files, every dtype, 0 to 4 dimensions.
* ``mnist/`` -- a 3-image MNIST-shaped ``t10k`` split for :func:`crbm.load_mnist`.
* ``model-*.npz`` -- valid saved models (untrained; trained with PCD chains,
  momentum, centering and history; PCG64, Philox and SFC64 generators; deflated
  members as ``np.savez_compressed`` writes them).
* ``bad-*`` -- known-tricky invalid inputs; :data:`BAD` maps each to the
  documented exception it must raise.
"""
from __future__ import annotations

import gzip
import io
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

import crbm

HERE = Path(__file__).resolve().parent

# name -> the array the (valid) idx file holds.
IDX = {
    "u8-3d.idx": np.arange(24, dtype=np.uint8).reshape(2, 3, 4),
    "u8-2d.idx.gz": np.arange(15, dtype=np.uint8).reshape(3, 5) * 17,
    "u8-empty.idx": np.zeros((0, 4), np.uint8),
    "u8-zeros.idx.gz": np.zeros(4096, np.uint8),  # compresses ~100:1
    "i8-1d.idx": np.array([-128, -1, 0, 1, 127], np.int8),
    "i16-2d.idx.gz": np.array([[1, 2], [-3, 4]], np.int16),
    "i32-0d.idx": np.array(-123456, np.int32),
    "i32-4d.idx": np.arange(-2, 2, dtype=np.int32).reshape(1, 2, 1, 2),
    "f32-2d.idx": np.array([[1.5, -2.0], [np.nan, np.inf]], np.float32),
    "f64-1d.idx.gz": np.array([0.1, -0.0, 1e300], np.float64),
}

# A 3-image MNIST-shaped split: images gzip-compressed, labels plain.
MNIST = {
    "mnist/t10k-images-idx3-ubyte.gz": np.arange(48, dtype=np.uint8).reshape(3, 4, 4) * 5,
    "mnist/t10k-labels-idx1-ubyte": np.array([7, 2, 1], np.uint8),
}


def _idx_header(code: int, dims: tuple[int, ...]) -> bytes:
    return bytes([0, 0, code, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)


def _npy(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    out = io.BytesIO()
    np.lib.format.write_array(out, array, allow_pickle=allow_pickle)
    return out.getvalue()


# name -> (content, the exception reading it must raise): classic traps, and
# seeds the mutations start from.  The minimal inputs of bugs the fuzzer found
# are explicit cases in test_idx.py and test_rbm.py.
BAD = {
    # Zero elements, yet 2**96 of them if the zero were ignored.
    "bad-empty-huge-shape.idx": (_idx_header(0x08, (0, 2**32 - 1, 2**32 - 1, 2**32 - 1)),
                                 crbm.IdxFormatError),
    # A gzip file of a few dozen bytes claiming 32 EiB.
    "bad-huge-claim.idx.gz": (gzip.compress(_idx_header(0x0E, (2**31, 2**31)) + bytes(16),
                                            mtime=0), crbm.IdxFormatError),
    # 1000 incompressible bytes claiming 10**6, as the deflate ratio allows.
    "bad-gzip-short.idx.gz": (gzip.compress(_idx_header(0x08, (10**6,)) +
                                            np.random.default_rng(0).bytes(1000), 0, mtime=0),
                              crbm.IdxFormatError),
    # 65 dimensions: more than numpy allows.
    "bad-65-dims.idx": (_idx_header(0x08, (1,) * 65) + b"\x00", crbm.IdxFormatError),
    # A .npy file where an .npz archive belongs.
    "bad-model-npy.npz": (_npy(np.zeros((6, 3))), crbm.ModelFileError),
}


def models() -> dict[str, crbm.RBM]:
    """The models saved as ``model-*.npz``, built deterministically.

    Returns
    -------
    dict of str to RBM
        File name -> model; the ``-deflated`` file holds the first model.
    """
    data = (np.random.default_rng(0).random((8, 6)) < 0.4).astype(np.uint8)
    trained = crbm.RBM(6, 3, dtype=np.float32, init="normal",
                       random_state=np.random.Generator(np.random.Philox(1)))
    # PCD chains, momentum velocity, centering offsets and history all saved.
    trained.train(data, 0.1, 2, batch_size=4, persistent=True, n_chains=2, momentum=0.5,
                  centering=True, validation=data[:3])
    return {
        "model-6x3.npz": crbm.RBM(6, 3, random_state=0),
        "model-6x3-f32-trained.npz": trained,
        "model-6x3-sfc64.npz": crbm.RBM(6, 3, init="normal",
                                        random_state=np.random.Generator(np.random.SFC64(2))),
    }


def _fixed_times(data: bytes) -> bytes:
    """Set every member's DOS timestamp in a zip archive to 1980-01-01 00:00.

    ``np.savez`` stamps members with the current time; zeroing it makes the
    corpus reproducible byte for byte without rewriting what numpy wrote.
    """
    out = bytearray(data)
    stamp = (0).to_bytes(2, "little") + (0x21).to_bytes(2, "little")  # 00:00, 1980-01-01
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            out[info.header_offset + 10:info.header_offset + 14] = stamp
        position = archive.start_dir
    while out[position:position + 4] == b"PK\x01\x02":  # central directory entries
        out[position + 12:position + 16] = stamp
        lengths = int.from_bytes(out[position + 28:position + 30], "little") + \
            int.from_bytes(out[position + 30:position + 32], "little") + \
            int.from_bytes(out[position + 32:position + 34], "little")
        position += 46 + lengths
    return bytes(out)


def _deflated(data: bytes) -> bytes:
    """The same archive with every member deflated, as np.savez_compressed writes it."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(member, source.read(info))
    return out.getvalue()


def _idx_bytes(name: str, array: np.ndarray) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(name).name
        crbm.write_idx(path, array)
        return path.read_bytes()


def build() -> dict[str, bytes]:
    """Every corpus file's name (relative to this directory) and content."""
    files = {name: _idx_bytes(name, array) for name, array in {**IDX, **MNIST}.items()}
    with tempfile.TemporaryDirectory() as tmp:
        for name, model in models().items():
            model.save(Path(tmp) / name)
            files[name] = _fixed_times((Path(tmp) / name).read_bytes())
    files["model-6x3-deflated.npz"] = _deflated(files["model-6x3.npz"])
    files.update({name: content for name, (content, _) in BAD.items()})
    return files


def main(directory: Path = HERE) -> None:
    """Write the corpus into `directory`, removing files that are no longer in it."""
    files = build()
    old = {p.relative_to(directory).as_posix() for p in directory.rglob("*")
           if p.is_file() and p.suffix not in (".py", ".pyc")}
    for stale in old - set(files):
        (directory / stale).unlink()
    for name, content in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(content)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
