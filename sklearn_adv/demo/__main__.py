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
    print(_format_results(table))
    print(f"\nFigures written to {out_dir.resolve()}: {', '.join(sorted(p.name for p in out_dir.glob('*.png')))}")


def _format_results(table):
    """One block per estimator and task: each metric, ours against the baseline named beside it."""
    lines = ["", "Results"]
    width = max(len(metric) for metric in table["metric"])
    for (estimator, task), block in table.groupby(["estimator", "task"], sort=False):
        lines += ["", f"{estimator}: {task}", f"  {'metric':<{width}}    ours  baseline"]
        for row in block.itertuples():
            lines.append(f"  {row.metric:<{width}}  {row.ours:6.3f}    {row.baseline:6.3f}  ({row.baseline_name})")
    return "\n".join(lines)


if __name__ == "__main__":
    main(*sys.argv[1:])
