"""smartnoise-synth's private synthesizers, run for ``bench_private.py`` in an environment of their own.

smartnoise-synth 1.0.8 needs opacus 0.14 (its DPCTGAN calls the 0.x
``PrivacyEngine``), while our test extra checks the accountant against
opacus 1.x: the two cannot share one environment. ``make bench`` builds
``.venv-dp-peers`` for them; ``bench_private.py`` writes the training rows
to a pickle, runs this script there once per fit, and scores the rows it
returns exactly as it scores ours.

Usage (by ``bench_private.py``)::

    python _dp_peers.py IN.pkl OUT.pkl

IN holds ``{"X", "y", "synth", "epsilon", "delta", "bounds", "seed"}``; OUT
receives ``{"fit_cpu_s", "draws"}``, ``draws`` mapping ``"default"`` (and for
AIM and MST ``"iid"``) to ``(X, y)`` synthetic rows, as many as given.
"""

import os
import pickle
import sys
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

warnings.filterwarnings("ignore")

LABEL = "__label__"
# AIM's own default is 16 rounds per column (240 on Adult, over 8 minutes); 30 keeps a fit near ours.
AIM_ROUNDS = 30
# DPCTGAN's defaults (sigma 5) need about 49 epochs, 40 minutes, to spend epsilon 1; here the noise is set
# so that 6 epochs spend the budget (its 500-row batches, 390 steps), as its README suggests for a budget.
DPCTGAN_EPOCHS = 6


def _transformers(X, bounds, style):
    """Public bounds for the numeric columns, so that no budget goes to inferring them."""
    from snsynth.transform import BinTransformer, MinMaxTransformer

    constraints = {}
    for column, (low, high) in bounds.items():
        if style == "cube":  # AIM, MST: 20 equal-width bins, their default for continuous columns
            constraints[column] = BinTransformer(bins=20, lower=low, upper=high)
        else:
            constraints[column] = MinMaxTransformer(lower=low, upper=high, negative=False)
    return constraints


def _dpctgan_sigma(epsilon, delta, n_rows, batch_size, epochs):
    """The smallest noise multiplier (0.05 steps) whose RDP epsilon after ``epochs`` stays within ``epsilon``."""
    from opacus.privacy_analysis import compute_rdp, get_privacy_spent

    alphas = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))
    steps = epochs * max(n_rows // batch_size, 1)
    for sigma in np.arange(0.3, 50, 0.05):
        rdp = compute_rdp(batch_size / n_rows, sigma, steps, alphas)
        if get_privacy_spent(alphas, rdp, delta)[0] <= epsilon:
            return float(sigma)
    raise ValueError("no noise multiplier spends the budget")


def fit_and_sample(job):
    import torch
    from snsynth import Synthesizer

    torch.set_num_threads(1)
    torch.manual_seed(job["seed"])
    np.random.seed(job["seed"])
    X, y = job["X"], job["y"]
    categorical = [c for c in X.columns if c not in job["bounds"]]
    # Missing categories become a category of their own ("?", as in the raw Adult files): the synthesizers'
    # encoders refuse None.
    data = X.astype({c: object for c in categorical}).fillna({c: "?" for c in categorical})
    data[LABEL] = y.astype(str)
    categorical.append(LABEL)
    name, epsilon, delta = job["synth"], job["epsilon"], job["delta"]
    style = "cube" if name in ("aim", "mst") else "gan"
    options = {}
    if name == "aim":
        options["rounds"] = AIM_ROUNDS
    if name == "dpctgan":
        options.update(epochs=DPCTGAN_EPOCHS, sigma=_dpctgan_sigma(epsilon, delta, len(data), 500, DPCTGAN_EPOCHS))
    synth = Synthesizer.create(name, epsilon=epsilon, delta=delta, **options)
    start = time.process_time()
    synth.fit(data, transformer=_transformers(X, job["bounds"], style), categorical_columns=categorical,
              preprocessor_eps=0.0)
    fit_cpu = time.process_time() - start
    draws = {"default": synth.sample(len(data))}
    if style == "cube":  # mbi's i.i.d. draw from the same model, instead of its default randomized rounding
        frame = synth.synthesizer.synthetic_data(rows=len(data), method="sample").df
        columns = ["col" + str(i) for i in range(synth._transformer.output_width)]
        draws["iid"] = synth._transformer.inverse_transform(
            [tuple(row) for row in frame[columns].itertuples(index=False)]
        )
    return {"fit_cpu_s": fit_cpu, "draws": {name: _split(rows, data.columns, categorical) for name, rows in draws.items()}}


def _split(rows, columns, categorical):
    """Synthetic rows as ``(X, y)``: the label column split off, "?" back to missing."""
    synthetic = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows, columns=columns)
    labels = synthetic.pop(LABEL).astype(str).to_numpy()
    synthetic = synthetic.replace({c: {"?": np.nan} for c in categorical if c != LABEL})
    return synthetic, (labels == "1").astype(int)


if __name__ == "__main__":
    with open(sys.argv[1], "rb") as handle:
        job = pickle.load(handle)
    result = fit_and_sample(job)
    with open(sys.argv[2], "wb") as handle:
        pickle.dump(result, handle)
