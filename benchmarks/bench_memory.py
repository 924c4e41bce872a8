"""Peak memory of training: crbm's overhead above the data itself.

Tiles the 10,000 MNIST t10k images into 60,000 x 784 uint8 rows (47 MB) and
measures, in a fresh process per configuration, the peak resident memory
during the first ``train`` call minus the resident memory just before it
(Linux: the peak is reset through /proc/self/clear_refs). The overhead
includes OpenBLAS's buffers, allocated on its first call. crbm reads uint8 data a batch at a
time, so the overhead should not grow with the dataset.

    python benchmarks/bench_memory.py
"""
from __future__ import annotations

import json
import subprocess
import sys

from _common import DEFAULT_MNIST, parser, table

CHILD = r"""
import json, sys
import numpy as np
import crbm

def rss_kb(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field))

mnist, n_rows, M, batch, dtype = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
images, _ = crbm.load_mnist(mnist, split="t10k")
data = np.tile(crbm.binarize(images), (n_rows // len(images), 1))
del images
model = crbm.RBM(784, M, dtype=dtype, init="normal", random_state=0)
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) to the current resident size
before = rss_kb("VmRSS")
model.train(data, 0.01, 1, batch_size=batch)  # includes BLAS's first-call buffers
print(json.dumps({"data_mb": data.nbytes / 2**20, "before_mb": before / 1024,
                  "peak_mb": rss_kb("VmHWM") / 1024}))
"""

CONFIGS = [(10000, 500, 100), (60000, 500, 100), (60000, 100, 1)]


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    rows = []
    for dtype in ("float32", "float64"):
        for n_rows, M, batch in CONFIGS:
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(args.mnist), str(n_rows), str(M), str(batch), dtype],
                capture_output=True, text=True, check=True).stdout
            r = json.loads(out)
            rows.append([dtype, n_rows, M, batch, f"{r['data_mb']:.0f}", f"{r['before_mb']:.0f}",
                         f"{r['peak_mb']:.0f}", f"{r['peak_mb'] - r['before_mb']:.1f}"])
    print("peak resident memory while training one epoch (MB)")
    print(table(["dtype", "rows", "M", "batch", "uint8 data", "RSS before", "peak RSS",
                 "crbm overhead"], rows))


if __name__ == "__main__":
    main()
