"""GANAugmenter.sample's fast path: Gumbel-perturbed logits decoded batch by batch, drawn as the softmax's argmax."""

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import ks_2samp

from sklearn_adv import GANAugmenter
from sklearn_adv.nn.gan_networks import SpanActivation
from sklearn_adv.nn.utils import seed_from
from sklearn_adv.preprocessing import TabularEncoder

TINY = dict(
    max_epochs=1,
    batch_size=40,
    noise_dim=8,
    pac=4,
    n_modes=3,
    generator__hidden_units=(16,),
    discriminator__hidden_units=(16,),
    random_state=0,
)


def _table(n=160, seed=0):
    rng = np.random.RandomState(seed)
    X = pd.DataFrame({
        "age": rng.randint(18, 90, n).astype(float),
        "job": pd.Categorical(rng.choice(["tech", "admin", "sales", "rare"], n, p=[0.45, 0.3, 0.2, 0.05])),
        "income": np.r_[rng.normal(20, 1, n // 2), rng.normal(80, 1, n - n // 2)],
        "owner": rng.rand(n) > 0.5,
        "city": rng.choice(["north", "south"], n).astype(object),
    })
    X.loc[::9, "age"] = np.nan
    X.loc[::11, "city"] = None
    return X, (np.arange(n) % 4 == 0).astype(int)


def _generate_then_decode(gan, n, random_state, soft, batch=8192):
    """The generator's outputs for ``sample``'s draws, concatenated and decoded at once."""
    rng = np.random.RandomState(seed_from(random_state))
    labels = gan.classes_[rng.choice(len(gan.classes_), n, p=gan.class_counts_ / gan.class_counts_.sum())]
    seed = rng.randint(np.iinfo(np.int32).max)
    codes = np.searchsorted(gan.classes_, labels)
    draws, generator = np.random.default_rng(seed), torch.Generator().manual_seed(seed)
    outputs = []
    with torch.no_grad():
        for start in range(0, n, batch):
            stop = min(n, start + batch)
            cond = gan._sampling_conditions(codes[start:stop], stop - start, draws)
            label = torch.as_tensor(codes[start:stop])
            outputs.append(gan.net_.generate(stop - start, label, cond, generator=generator, soft=soft).numpy())
    return gan.encoder_.inverse_transform(np.concatenate(outputs)), labels


@pytest.mark.parametrize("numeric", ["mode_specific", "standard"])
def test_sample_decodes_batch_by_batch_what_decoding_at_once_gives(numeric):
    X, y = _table()
    gan = GANAugmenter(**TINY, numeric=numeric).fit(X, y)
    rows, labels = gan.sample(20_000, random_state=5)  # three batches
    expected, expected_labels = _generate_then_decode(gan, 20_000, random_state=5, soft=False)
    pd.testing.assert_frame_equal(rows, expected, check_exact=True)
    assert np.array_equal(labels, expected_labels)


def test_sample_draws_categories_and_modes_as_the_softmax_outputs_do():
    X, y = _table()
    gan = GANAugmenter(**TINY).fit(X, y)
    n = 40_000
    fast, _ = gan.sample(n, random_state=0)
    soft, _ = _generate_then_decode(gan, n, random_state=1, soft=True)
    again, _ = _generate_then_decode(gan, n, random_state=2, soft=True)
    for column in ("job", "owner", "city"):
        p, q, r = (frame[column].astype(str).value_counts(normalize=True) for frame in (fast, soft, again))
        # Within the sampling noise of two draws of the softmax path (about 0.005 at 40,000 rows).
        assert 0.5 * p.subtract(q, fill_value=0).abs().sum() < 0.02
        assert 0.5 * r.subtract(q, fill_value=0).abs().sum() < 0.02
    for column in ("age", "income"):
        assert ks_2samp(fast[column].dropna(), soft[column].dropna()).statistic < 0.02


def test_empty_samples_keep_the_columns_and_dtypes():
    X, y = _table()
    gan = GANAugmenter(**TINY).fit(X, y)
    rows, labels = gan.sample(0, random_state=0)
    assert rows.shape == (0, X.shape[1]) and len(labels) == 0
    assert rows.dtypes.equals(gan.sample(3, random_state=0)[0].dtypes)


def test_span_activation_scores_draw_each_category_with_its_softmax_probability():
    logits = torch.tensor([[2.0, 0.0, -1.0, 1.0]])
    probabilities = torch.softmax(logits, dim=1)[0].numpy()  # the temperature does not change an argmax
    activation = SpanActivation([(0, 4, "onehot")], tau=0.2)
    n = 200_000
    scores = activation(logits.expand(n, 4), generator=torch.Generator().manual_seed(0), soft=False)
    shares = np.bincount(scores.argmax(dim=1).numpy(), minlength=4) / n
    assert np.abs(shares - probabilities).max() < 4 * np.sqrt(0.25 / n)


def test_span_activation_scores_keep_numbers_and_indicators_and_their_seed():
    spans = [(0, 1, "numeric"), (1, 4, "mode"), (4, 5, "missing"), (5, 9, "onehot")]
    activation = SpanActivation(spans)
    raw = torch.randn(500, 9, generator=torch.Generator().manual_seed(0))
    soft = activation(raw, generator=torch.Generator().manual_seed(1))
    scores = activation(raw, generator=torch.Generator().manual_seed(1), soft=False)
    assert torch.equal(soft[:, [0, 4]], scores[:, [0, 4]])
    assert torch.equal(scores, activation(raw, generator=torch.Generator().manual_seed(1), soft=False))


def test_tabular_encoder_decodes_in_parts_as_at_once():
    X, _ = _table(300)
    X["count"] = pd.array(np.arange(300) % 7, dtype="Int64")
    for numeric in ("standard", "mode_specific"):
        encoder = TabularEncoder(numeric=numeric, random_state=0).fit(X)
        Z = encoder.transform(X)
        parts = [encoder._decode_columns(Z[a:b]) for a, b in ((0, 1), (1, 128), (128, 300))]
        pd.testing.assert_frame_equal(encoder._assemble(parts), encoder.inverse_transform(Z), check_exact=True)
        pd.testing.assert_frame_equal(encoder._assemble(parts), X, check_dtype=True, atol=1e-3)
