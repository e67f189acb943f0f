"""A tour of the library on real data: ``python -m sklearn_adv.demo [output folder]``.

Each section is a module with ``run(out_dir)`` that fits one estimator on
real data, saves a figure into ``out_dir`` and returns result rows (dicts
with keys ``estimator``, ``task``, ``metric``, ``ours``, ``baseline``,
``baseline_name``). The tour prints them as one table.
"""

SECTIONS = ("mixup", "gan", "dann", "few_labels", "membership", "tickmeans", "fairness", "robustness")
