"""GANAugmenter.sample's fast path: the same rows as decoding the generator's softmax outputs at once."""

import numpy as np
import pandas as pd
import pytest
import torch

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


def _softmax_then_decode(gan, n, random_state, batch=8192):
    """What sample did before: the generator's softmax outputs, concatenated and decoded at once."""
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
            outputs.append(gan.net_.generate(stop - start, label, cond, generator=generator, soft=True).numpy())
    return gan.encoder_.inverse_transform(np.concatenate(outputs)), labels


@pytest.mark.parametrize("numeric", ["mode_specific", "standard"])
def test_sample_gives_the_rows_of_the_softmax_decoded_at_once(numeric):
    X, y = _table()
    gan = GANAugmenter(**TINY, numeric=numeric).fit(X, y)
    rows, labels = gan.sample(20_000, random_state=5)  # three batches
    expected, expected_labels = _softmax_then_decode(gan, 20_000, random_state=5)
    pd.testing.assert_frame_equal(rows, expected, check_exact=True)
    assert np.array_equal(labels, expected_labels)


def test_empty_samples_keep_the_columns_and_dtypes():
    X, y = _table()
    gan = GANAugmenter(**TINY).fit(X, y)
    rows, labels = gan.sample(0, random_state=0)
    assert rows.shape == (0, X.shape[1]) and len(labels) == 0
    assert rows.dtypes.equals(gan.sample(3, random_state=0)[0].dtypes)


def _first_two_tie(probabilities):
    return bool(probabilities[0] == probabilities[1])


def test_scores_have_the_softmax_argmax_even_where_it_rounds_two_probabilities_to_one():
    # Two logits one float32 step apart: divided by tau = 0.2, they become one number,
    # so the softmax gives them the same probability and its argmax takes the first.
    tied = torch.tensor([[3.2492447, 3.249245, -0.77, 1.36]])
    assert _first_two_tie(torch.softmax(tied / 0.2, dim=1)[0])
    raw = torch.cat([tied, torch.tensor([[0.1, 2.0, -1.0, 0.5]])])
    activation = SpanActivation([(0, 4, "onehot")], tau=0.2)
    scores = activation._scores(raw, torch.zeros_like(raw))
    soft = torch.softmax(raw / 0.2, dim=1)
    assert scores.argmax(dim=1).tolist() == soft.argmax(dim=1).tolist() == [0, 1]
    assert torch.equal(scores[1], raw[1])  # a clear winner keeps its logits


def test_span_activation_scores_keep_the_softmax_argmax_of_every_block():
    spans = [(0, 1, "numeric"), (1, 4, "mode"), (4, 5, "missing"), (5, 9, "onehot")]
    activation = SpanActivation(spans)
    raw = torch.randn(5000, 9, generator=torch.Generator().manual_seed(0))
    soft = activation(raw, generator=torch.Generator().manual_seed(1))
    scores = activation(raw, generator=torch.Generator().manual_seed(1), soft=False)
    for start, stop, kind in spans:
        if kind in ("numeric", "missing"):
            assert torch.equal(soft[:, start:stop], scores[:, start:stop])
        else:
            assert torch.equal(soft[:, start:stop].argmax(dim=1), scores[:, start:stop].argmax(dim=1))


def test_tabular_encoder_decodes_in_parts_as_at_once():
    X, _ = _table(300)
    X["count"] = pd.array(np.arange(300) % 7, dtype="Int64")
    for numeric in ("standard", "mode_specific"):
        encoder = TabularEncoder(numeric=numeric, random_state=0).fit(X)
        Z = encoder.transform(X)
        parts = [encoder._decode_columns(Z[a:b]) for a, b in ((0, 1), (1, 128), (128, 300))]
        pd.testing.assert_frame_equal(encoder._assemble(parts), encoder.inverse_transform(Z), check_exact=True)
        pd.testing.assert_frame_equal(encoder._assemble(parts), X, check_dtype=True, atol=1e-3)
