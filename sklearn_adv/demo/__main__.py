import sys
import time
from importlib import import_module
from pathlib import Path

import pandas as pd

from sklearn_adv.demo import SECTIONS


def main(out_dir="demo_output"):
    import matplotlib

    matplotlib.use("Agg")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in SECTIONS:
        print(f"-- {name} ...", flush=True)
        start = time.perf_counter()
        section_rows = import_module(f"sklearn_adv.demo.{name}").run(out_dir)
        print(f"   done in {time.perf_counter() - start:.1f} s", flush=True)
        rows.extend(section_rows)
    table = pd.DataFrame(rows, columns=["estimator", "task", "metric", "ours", "baseline", "baseline_name"])
    with pd.option_context("display.width", 160, "display.max_colwidth", 40, "display.float_format", "{:.3f}".format):
        print()
        print(table.to_string(index=False))
    print(f"\nFigures written to {out_dir.resolve()}: {', '.join(sorted(p.name for p in out_dir.glob('*.png')))}")


if __name__ == "__main__":
    main(*sys.argv[1:])
