"""GANAugmenter: the sampler and generator contract, tables, images, losses and the engine under it."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import sparse
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline as sklearn_make_pipeline
from sklearn.preprocessing import OneHotEncoder

from sklearn_adv import GANAugmenter, plugins
from sklearn_adv.augmentation._gan_data import training_by_sampling as _training_by_sampling
from sklearn_adv.augmentation.gan_losses import gradient_penalty
from sklearn_adv.nn import AdversarialNet
from sklearn_adv.nn.gan import ConditionalDiscriminator, DCGANDiscriminator, DCGANGenerator, GANNet, weighted_row_loader
from sklearn_adv.pipeline import make_pipeline

TINY = dict(
    max_epochs=2,
    batch_size=40,
    noise_dim=8,
    pac=4,
    n_modes=3,
    generator__hidden_units=(16,),
    discriminator__hidden_units=(16,),
    random_state=0,
)


def _table(n=120, seed=0):
    rng = np.random.RandomState(seed)
    y = (np.arange(n) % 4 == 0).astype(int)  # 25% positives
    X = pd.DataFrame(
        {
            "age": rng.randint(18, 90, n),
            "job": pd.Categorical(rng.choice(["tech", "admin", "sales", "rare"], n, p=[0.45, 0.3, 0.2, 0.05])),
            "income": np.r_[rng.normal(20, 1, n // 2), rng.normal(80, 1, n - n // 2)],
            "owner": rng.rand(n) > 0.5,
            "city": rng.choice(["north", "south"], n).astype(object),
        }
    )
    return X, y


@pytest.fixture(scope="module")
def fitted():
    X, y = _table()
    gan = GANAugmenter(**TINY)
    X_res, y_res = gan.fit_resample(X, y)
    return gan, X, y, X_res, y_res


# -- the sampler contract -----------------------------------------------------


def test_transform_passes_a_frame_with_missing_values_through(fitted):
    gan, X, *_ = fitted
    with_missing = X.astype({"job": object}).assign(job=lambda f: f["job"].where(f.index % 7 != 0))
    with_missing.loc[::5, "age"] = np.nan
    assert gan.transform(with_missing) is with_missing


def test_fit_resample_returns_the_original_rows_in_order_then_balances_the_classes(fitted):
    gan, X, y, X_res, y_res = fitted
    pd.testing.assert_frame_equal(X_res.iloc[: len(X)], X)
    np.testing.assert_array_equal(y_res[: len(y)], y)
    assert np.bincount(y_res).tolist() == [90, 90]
    assert gan.sampling_strategy_ == {1: 60}
    assert np.array_equal(gan.sample_weight_, np.ones(len(y_res)))


def test_synthetic_tables_keep_columns_dtypes_categories_and_ranges(fitted):
    gan, X, _, X_res, _ = fitted
    new = X_res.iloc[len(X) :]
    assert list(new.columns) == list(X.columns)
    assert new.dtypes.equals(X.dtypes)
    assert list(new["job"].cat.categories) == list(X["job"].cat.categories)
    assert set(new["city"]) <= {"north", "south"}
    assert new["age"].between(X["age"].min(), X["age"].max()).all()
    assert new["income"].between(X["income"].min(), X["income"].max()).all()


@pytest.mark.parametrize(
    "strategy, expected",
    [(40, {0: 30, 1: 10}), (10, {0: 8, 1: 2}), ({0: 100, 1: 50}, {0: 10, 1: 20}), ("all", {0: 0, 1: 60}), (0.5, {1: 15})],
)
def test_sampling_strategy_follows_imbalanced_learn_or_adds_a_number_of_rows(strategy, expected):
    X, y = _table()
    gan = GANAugmenter(sampling_strategy=strategy, **{**TINY, "max_epochs": 1})
    X_res, y_res = gan.fit_resample(X, y)
    assert dict(gan.sampling_strategy_) == expected
    added = np.bincount(np.asarray(y_res)[len(y) :], minlength=2)
    assert {k: int(added[k]) for k in expected} == expected


def test_sample_conditions_on_one_class_or_per_row_classes(fitted):
    gan = fitted[0]
    rows, labels = gan.sample(7, y=1, random_state=0)
    assert len(rows) == 7 and labels.tolist() == [1] * 7
    rows, labels = gan.sample(3, y=[0, 1, 0], random_state=0)
    assert labels.tolist() == [0, 1, 0]
    rows, labels = gan.sample(400, random_state=0)
    assert 0.15 < labels.mean() < 0.35  # the training proportions (25%) when no class is asked for


def test_sample_is_reproducible_with_a_seed_and_varies_without_one(fitted):
    gan = fitted[0]
    first, _ = gan.sample(20, random_state=3)
    again, _ = gan.sample(20, random_state=3)
    other, _ = gan.sample(20, random_state=4)
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)


def test_sample_rejects_unknown_labels_and_wrong_lengths(fitted):
    gan = fitted[0]
    with pytest.raises(ValueError, match="not seen in fit"):
        gan.sample(2, y=5)
    with pytest.raises(ValueError, match="one label per row"):
        gan.sample(3, y=[0, 1])
    with pytest.raises(ValueError, match="n_samples"):
        gan.sample(-1)


def test_unconditional_fit_samples_rows_only():
    X, _ = _table()
    gan = GANAugmenter(**{**TINY, "max_epochs": 1}).fit(X)
    rows = gan.sample(5, random_state=0)
    assert isinstance(rows, pd.DataFrame) and rows.shape == (5, X.shape[1])
    assert gan.classes_ is None
    with pytest.raises(ValueError, match="without class labels"):
        gan.sample(5, y=1)


def test_transform_passes_data_through_and_plain_pipelines_fail_loudly(fitted):
    gan, X, y, _, _ = fitted
    assert gan.transform(X) is X
    with pytest.raises(TypeError, match="sklearn_adv.pipeline"):
        sklearn_make_pipeline(clone(gan), LogisticRegression()).fit(X.select_dtypes("number"), y)


def test_works_in_our_pipeline_and_in_grid_search():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] > 0.8).astype(int)
    model = make_pipeline(GANAugmenter(**{**TINY, "max_epochs": 1}), LogisticRegression())
    search = GridSearchCV(model, {"ganaugmenter__generator__hidden_units": [(8,), (16,)]}, cv=2).fit(X, y)
    chosen = search.best_params_["ganaugmenter__generator__hidden_units"]
    generator = search.best_estimator_[0].generator_
    # The nested parameter reached the network: its hidden layer has the chosen width.
    assert chosen[0] in {layer.out_features for layer in generator.modules() if isinstance(layer, torch.nn.Linear)}
    assert 24 not in {layer.out_features for layer in generator.modules() if isinstance(layer, torch.nn.Linear)}
    assert search.predict(X).shape == (80,)


# -- tables -------------------------------------------------------------------


def test_training_by_sampling_draws_categories_with_log_frequency():
    counts = np.array([90, 9, 1])
    category = np.repeat(np.arange(3), counts)
    real = np.eye(3, dtype=np.float32)[category]
    row_weights, cond_weights = _training_by_sampling(real, [(0, 3)], None, 0)
    p_category = np.bincount(category, weights=row_weights) / row_weights.sum()
    np.testing.assert_allclose(p_category, np.log1p(counts) / np.log1p(counts).sum())
    np.testing.assert_allclose(cond_weights, 1.0)


def test_missing_values_are_modelled_with_an_indicator():
    X, y = _table()
    X["income"] = X["income"].mask(np.arange(len(X)) % 3 == 0)
    gan = GANAugmenter(**{**TINY, "max_epochs": 1}).fit(X, y)
    assert "income_missing" in gan.encoder_.get_feature_names_out()
    rows, _ = gan.sample(300, random_state=0)
    assert 0 < rows["income"].isna().mean() < 1


def test_discriminator_scores_records_and_generator_is_a_torch_module(fitted):
    gan, X, _, _, _ = fitted
    scores = gan.discriminator_(X.iloc[:9])
    assert scores.shape == (9,) and np.isfinite(scores).all()
    assert isinstance(gan.discriminator_.module, torch.nn.Module)
    assert isinstance(gan.generator_, torch.nn.Module)
    z = torch.zeros(2, gan.noise_dim)
    cond_dim = 2 + sum(stop - start for start, stop in gan._cond_spans_)
    assert gan.generator_(z, torch.zeros(2, cond_dim)).shape == (2, gan.encoder_.n_features_out_)


def test_history_records_both_losses_and_verbose_prints_them(capsys):
    X, y = _table()
    gan = GANAugmenter(**{**TINY, "verbose": 1}).fit(X, y)
    for key in ("generator_loss", "discriminator_loss", "auxiliary_accuracy"):
        assert len(gan.history_[:, key]) == TINY["max_epochs"]
    assert "discriminator_loss" in capsys.readouterr().out


def test_pickle_keeps_the_generator(fitted):
    gan = fitted[0]
    restored = pickle.loads(pickle.dumps(gan))
    pd.testing.assert_frame_equal(restored.sample(10, random_state=1)[0], gan.sample(10, random_state=1)[0])
    np.testing.assert_allclose(restored.discriminator_(fitted[1].iloc[:5]), gan.discriminator_(fitted[1].iloc[:5]))


def test_both_optimizers_get_the_documented_adam_settings(fitted):
    gan = fitted[0]
    for optimizer in (gan.net_.optimizer_, gan.net_.discriminator_optimizer_):
        group = optimizer.param_groups[0]
        assert isinstance(optimizer, torch.optim.Adam)
        assert group["betas"] == (0.5, 0.9) and group["weight_decay"] == 1e-6 and group["lr"] == 2e-4
        assert not group["fused"]  # the fused kernel rounds differently: other samples for a random_state


@pytest.mark.parametrize("optimizer, expected", [("sgd", torch.optim.SGD), (torch.optim.RMSprop, torch.optim.RMSprop)])
def test_both_players_train_with_the_optimizer_asked_for(optimizer, expected):
    X, y = _table()
    gan = GANAugmenter(optimizer=optimizer, lr=1e-3, **{**TINY, "max_epochs": 1}).fit(X, y)
    for player_optimizer in (gan.net_.optimizer_, gan.net_.discriminator_optimizer_):
        group = player_optimizer.param_groups[0]
        assert type(player_optimizer) is expected and group["lr"] == 1e-3
        assert "betas" not in group  # Adam's settings are Adam's only
    if optimizer == "sgd":
        assert gan.net_.optimizer_.param_groups[0]["momentum"] == 0.9


def _tiny_gannet(**params):
    loss = plugins.resolve("gan_loss", "bce")
    discriminator = ConditionalDiscriminator(torch.nn.Linear(3, 4), 4)
    return GANNet(torch.nn.Linear(2, 3), discriminator, criterion=loss, noise_dim=2, optimizer=torch.optim.Adam,
                  lr=2e-4, optimizer__betas=(0.5, 0.9), optimizer__weight_decay=1e-6, **params).initialize()


def test_gannet_discriminator_optimizer_parameters_override_the_shared_ones():
    net = _tiny_gannet(adversary_optimizer__betas=(0.0, 0.99), adversary_optimizer__lr=1e-3)
    d_group, g_group = net.discriminator_optimizer_.param_groups[0], net.optimizer_.param_groups[0]
    assert d_group["betas"] == (0.0, 0.99) and d_group["lr"] == 1e-3 and d_group["weight_decay"] == 1e-6
    assert g_group["betas"] == (0.5, 0.9) and g_group["lr"] == 2e-4
    net = _tiny_gannet(adversary_optimizer=torch.optim.SGD)  # another class: lr only, not Adam's betas
    assert isinstance(net.discriminator_optimizer_, torch.optim.SGD)
    assert net.discriminator_optimizer_.param_groups[0]["lr"] == 2e-4
    assert net.discriminator_optimizer_.param_groups[0]["weight_decay"] == 0


def test_gannet_is_the_adversarial_net_with_the_discriminator_as_its_adversary():
    net = _tiny_gannet()
    assert isinstance(net, AdversarialNet)
    assert net.discriminator_ is net.adversary_ and net.discriminator_optimizer_ is net.adversary_optimizer_
    assert set(net.get_params()) >= {"adversary", "adversary_steps", "adversary_optimizer"}
    with pytest.raises(ValueError, match="alternating"):
        _tiny_gannet(training="reversal")


def test_discriminator_and_its_optimizer_are_registered_for_devices_and_pickling(fitted):
    gan = fitted[0]
    net = gan.net_
    assert {"adversary_", "adversary_optimizer_"} <= set(net.cuda_dependent_attributes_)
    assert "adversary" in net._modules and "adversary_optimizer" in net._optimizers
    # skorch pickles registered attributes through its map_location path, not in the plain state.
    state = net.__getstate__()
    assert "adversary_" not in state and "adversary_optimizer_" not in state
    restored = pickle.loads(pickle.dumps(gan))
    assert restored.generator_ is restored.net_.module_
    assert restored.discriminator_.module is restored.net_.discriminator_
    with pytest.raises(AttributeError):
        _ = GANAugmenter().generator_


def test_discriminator_scores_records_with_categories_unseen_in_fit(fitted):
    gan, X, _, _, _ = fitted
    new = X.iloc[:6].copy()
    new["city"] = "east"
    new["job"] = pd.Categorical(["tech", "admin", "new", "new", "rare", "other"])
    scores = gan.discriminator_(new)
    assert scores.shape == (6,) and np.isfinite(scores).all()


@pytest.mark.parametrize("dtype", ["Int64", "category", "int64"])
def test_fit_resample_keeps_the_dtype_of_a_series_y(dtype):
    X, y = _table()
    y = pd.Series(np.where(y == 1, 7, 3), name="target").astype(dtype)
    _, y_res = GANAugmenter(**{**TINY, "max_epochs": 1}).fit_resample(X, y)
    assert isinstance(y_res, pd.Series) and y_res.dtype == y.dtype and y_res.name == "target"
    assert y_res.value_counts().to_dict() == {3: 90, 7: 90}
    if dtype == "category":
        assert list(y_res.cat.categories) == list(y.cat.categories)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_gan_trained_on_a_gpu_unpickles_on_a_cpu_only_machine(tmp_path):
    import subprocess
    import sys

    X, y = _table()
    gan = GANAugmenter(**{**TINY, "max_epochs": 1, "device": "cuda"}).fit(X, y)
    assert next(gan.net_.discriminator_.parameters()).is_cuda
    path = tmp_path / "gan.pkl"
    path.write_bytes(pickle.dumps(gan))
    X.to_pickle(tmp_path / "X.pkl")
    script = (
        "import pickle, sys, pandas as pd, torch; assert not torch.cuda.is_available();"
        f"gan = pickle.loads(open({str(path)!r}, 'rb').read());"
        "assert not next(gan.net_.discriminator_.parameters()).is_cuda;"
        "assert gan.generator_ is gan.net_.module_;"
        f"print(gan.discriminator_(pd.read_pickle({str(tmp_path / 'X.pkl')!r}).iloc[:3]).shape, len(gan.sample(4)[0]))"
    )
    env = {**__import__("os").environ, "CUDA_VISIBLE_DEVICES": ""}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["(3,)", "4"]


@pytest.mark.parametrize(
    "params, X, y, match",
    [
        ({}, np.array([["a", 1.0], ["b", 2.0]] * 10, dtype=object), None, "could not convert"),
        ({"pac": 50}, np.zeros((20, 2)), None, "pac"),
        ({}, np.random.RandomState(0).normal(size=(20, 2)), np.linspace(0, 1, 20), "class labels"),
        ({}, np.random.RandomState(0).normal(size=(20, 2)), np.zeros(20), "single class"),
        ({"loss": "nope"}, np.zeros((20, 2)), None, "Unknown gan_loss"),
        ({"image_shape": (3, 3)}, np.zeros((20, 8)), None, "image_shape"),
    ],
)
def test_bad_input_raises_before_training(params, X, y, match):
    with pytest.raises((ValueError, TypeError), match=match):
        GANAugmenter(**{**TINY, **params}).fit(X, y)


# -- tables encoded before the GAN ---------------------------------------------------


def _categories_and_numbers(n=120, seed=0):
    """Two categorical columns (strings) and two numeric ones, as arrays."""
    rng = np.random.RandomState(seed)
    categories = np.c_[rng.choice(["tech", "admin", "sales"], n), rng.choice(["north", "south"], n)]
    numbers = np.c_[rng.randint(18, 90, n), rng.normal(50, 10, n)]
    return categories, numbers, np.arange(n) % 2


def _one_hot_warnings(X, y, **params):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        GANAugmenter(**{**TINY, **params}).fit(X, y)
    return [w for w in caught if issubclass(w.category, UserWarning) and "one-hot" in str(w.message)]


def test_a_sparse_table_from_an_encoder_is_refused_with_what_to_do_instead():
    categories, numbers, y = _categories_and_numbers()
    encoded = OneHotEncoder().fit_transform(categories)  # sparse, as OneHotEncoder gives by default
    with pytest.raises(TypeError, match="sparse.*before the encoder in the pipeline, or pass the DataFrame"):
        GANAugmenter(**TINY).fit(sparse.hstack([numbers, encoded]).tocsr(), y)
    with pytest.raises(TypeError, match="before the encoder"):
        make_pipeline(OneHotEncoder(), GANAugmenter(**TINY), LogisticRegression()).fit(categories, y)


@pytest.mark.parametrize("drop", [None, "first"])
@pytest.mark.parametrize("as_frame", [False, True])
def test_a_dense_one_hot_encoded_table_gets_a_warning_with_what_to_do_instead(drop, as_frame):
    categories, numbers, y = _categories_and_numbers()
    encoder = OneHotEncoder(drop=drop, sparse_output=False).fit(categories)
    X = np.c_[numbers, encoder.transform(categories)]
    if as_frame:  # as set_output(transform="pandas") gives it: numeric columns only
        X = pd.DataFrame(X, columns=["age", "score", *encoder.get_feature_names_out()])
    caught = _one_hot_warnings(X, y)
    assert len(caught) == 1
    assert "before the encoder in the pipeline, or pass the DataFrame" in str(caught[0].message)


def test_a_single_one_hot_block_among_many_numeric_columns_gets_a_warning():
    categories, numbers, y = _categories_and_numbers()
    more_numbers = np.random.RandomState(1).normal(size=(len(y), 8))
    X = np.c_[numbers, more_numbers, OneHotEncoder(sparse_output=False).fit_transform(categories[:, :1])]
    caught = _one_hot_warnings(X, y)
    assert len(caught) == 1
    assert "before the encoder in the pipeline, or pass the DataFrame" in str(caught[0].message)


def test_a_numeric_table_with_a_few_binary_flags_or_proper_categories_gets_no_warning():
    categories, numbers, y = _categories_and_numbers()
    rng = np.random.RandomState(1)
    flags = (rng.rand(len(y), 2) > 0.5).astype(float)
    assert not _one_hot_warnings(np.c_[numbers, rng.normal(size=(len(y), 2)), flags], y)
    assert not _one_hot_warnings(np.c_[numbers, flags[:, :1]], y)
    frame = pd.DataFrame({"job": categories[:, 0], "city": categories[:, 1], "age": numbers[:, 0], "owner": flags[:, 0]})
    assert not _one_hot_warnings(frame, y)


def test_one_hot_columns_named_as_categorical_get_no_warning():
    categories, numbers, y = _categories_and_numbers()
    X = np.c_[numbers, OneHotEncoder(sparse_output=False).fit_transform(categories)]
    assert not _one_hot_warnings(X, y, categorical_features=[2, 3, 4, 5, 6])


# -- images -------------------------------------------------------------------


def _images(n=48):
    rng = np.random.RandomState(0)
    y = np.arange(n) % 2
    images = rng.uniform(0, 4, size=(n, 8, 8))
    images[y == 1, :, :4] += 10  # class 1 is bright on the left
    return images, y


def test_a_network_given_as_an_instance_is_copied_not_trained_in_place():
    images, y = _images()
    body = DCGANDiscriminator((1, 8, 8), None, channels=(4, 8))
    before = {key: value.clone() for key, value in body.state_dict().items()}
    gan = GANAugmenter(
        max_epochs=1, batch_size=16, noise_dim=8, generator__channels=(8, 4), discriminator=body, random_state=0
    ).fit(images, y)
    assert gan.net_.discriminator_.body is not body
    assert all(torch.equal(value, before[key]) for key, value in body.state_dict().items())
    assert not all(torch.equal(value, before[key]) for key, value in gan.net_.discriminator_.body.state_dict().items())


@pytest.mark.parametrize("layout", ["hw", "chw", "flat"])
def test_images_come_back_in_the_input_layout_and_value_range(layout):
    images, y = _images()
    X = {"hw": images, "chw": images[:, None], "flat": images.reshape(len(images), -1)}[layout]
    params = {"image_shape": (8, 8)} if layout == "flat" else {}
    gan = GANAugmenter(
        max_epochs=1, batch_size=16, noise_dim=8, generator__channels=(8, 4), discriminator__channels=(4, 8),
        random_state=0, **params,
    )
    X_res, _ = gan.fit_resample(X, y)
    new, _ = gan.sample(6, y=1, random_state=0)
    assert new.shape == (6, *X.shape[1:])
    assert new.min() >= images.min() and new.max() <= images.max()
    assert gan.discriminator_(X[:4]).shape == (4,)
    assert X_res.shape[1:] == X.shape[1:]


def test_dcgan_generator_makes_images_of_any_size():
    assert DCGANGenerator(12, (3, 7, 10))(torch.zeros(2, 12)).shape == (2, 3, 7, 10)


# -- losses and the engine ---------------------------------------------------------


def test_losses_are_registered_plugins():
    assert {"bce", "acgan", "wgan_gp"} <= set(plugins.available("gan_loss"))


def test_gradient_penalty_vanishes_for_a_critic_with_unit_gradient():
    w = torch.tensor([0.6, 0.8])
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    assert gradient_penalty(lambda x: x @ w, real, fake).item() == pytest.approx(0.0, abs=1e-10)
    assert gradient_penalty(lambda x: 2 * x @ w, real, fake).item() == pytest.approx(1.0)


def test_wgan_gp_loss_and_spectral_norm_train():
    X, y = _table()
    gan = GANAugmenter(loss="wgan_gp", spectral_norm=True, **{**TINY, "max_epochs": 1}).fit(X, y)
    parametrized = [m for m in gan.discriminator_.module.modules() if hasattr(m, "parametrizations")]
    assert parametrized
    assert np.isfinite(gan.history_[:, "discriminator_loss"]).all()


def test_weighted_row_loader_draws_whole_packs_by_weight():
    from skorch.dataset import Dataset

    dataset = Dataset({"real": np.arange(10, dtype=np.float32)[:, None]}, None)
    torch.manual_seed(0)
    loader = weighted_row_loader(dataset, batch_size=7, weights=np.r_[np.zeros(9), 1.0], pac=3)
    batches = [Xi["real"] for Xi, _ in loader]
    assert len(batches) == 2 and all(b.shape == (6, 1) for b in batches)
    assert all((b == 9).all() for b in batches)


def test_gannet_stops_with_a_clear_error_when_training_diverges():
    X, y = _table()
    with pytest.raises(FloatingPointError, match="diverged"):
        GANAugmenter(lr=1e30, loss="wgan_gp", **{**TINY, "max_epochs": 3}).fit(X.select_dtypes("number"), y)


# -- statistics (slow) -----------------------------------------------------------


@pytest.mark.slow
def test_rows_generated_for_a_class_look_like_that_class_and_cover_both_modes():
    rng = np.random.RandomState(0)
    n = 600
    y = rng.randint(0, 2, n)
    X = pd.DataFrame(
        {
            "x": np.where(y == 1, 3.0, -3.0) + rng.normal(0, 0.5, n),
            "bimodal": np.where(rng.rand(n) < 0.5, -10.0, 10.0) + rng.normal(0, 0.3, n),
        }
    )
    gan = GANAugmenter(max_epochs=60, batch_size=100, random_state=0).fit(X, y)
    rows, labels = gan.sample(1000, random_state=0)
    clf = LogisticRegression().fit(rows[["x"]], labels)
    assert clf.score(X[["x"]], y) > 0.9
    near_modes = (rows["bimodal"].abs() - 10).abs() < 3
    assert near_modes.mean() > 0.7
    assert 0.25 < (rows["bimodal"] > 0).mean() < 0.75


def test_a_records_discriminator_score_does_not_depend_on_the_records_scored_with_it(fitted):
    gan, X, _, _, _ = fitted
    together = gan.discriminator_(X)
    alone = np.array([gan.discriminator_(X.iloc[[i]])[0] for i in range(10)])
    np.testing.assert_allclose(alone, together[:10], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(gan.discriminator_(X), together)


# -- discriminator options: one-sided label smoothing, mixup -------------------------


def test_one_sided_label_smoothing_reaches_the_loss_and_changes_training_only_when_set():
    X, y = _table()
    plain = GANAugmenter(**TINY).fit(X, y)
    smooth = GANAugmenter(discriminator_label_smoothing=0.2, **TINY).fit(X, y)
    assert plain.net_.criterion_.label_smoothing == 0.0 and smooth.net_.criterion_.label_smoothing == 0.2
    assert not np.allclose(plain.history_[:, "discriminator_loss"], smooth.history_[:, "discriminator_loss"])
    zero = GANAugmenter(discriminator_label_smoothing=0.0, discriminator_mixup=0.0, **TINY).fit(X, y)
    np.testing.assert_array_equal(zero.history_[:, "discriminator_loss"], plain.history_[:, "discriminator_loss"])


def test_one_sided_label_smoothing_targets_real_rows_only():
    loss = plugins.resolve("gan_loss", "bce")(label_smoothing=0.1)
    real, fake = torch.full((4,), 10.0), torch.full((4,), -10.0)
    # Confident and right on both sides: the real term keeps a cost (target 0.9), the fake term almost none.
    assert float(loss.discriminator_loss(real, torch.full((4,), -30.0))) > 0.9
    assert float(loss.discriminator_loss(torch.full((4,), 2.2), fake)) < 0.33


def test_discriminator_mixup_trains_on_mixed_packs_with_their_real_share_as_target():
    X, y = _table()
    mixed = GANAugmenter(discriminator_mixup=0.2, **TINY).fit(X, y)
    plain = GANAugmenter(**TINY).fit(X, y)
    assert np.isfinite(mixed.history_[:, "discriminator_loss"]).all()
    assert not np.allclose(plain.history_[:, "discriminator_loss"], mixed.history_[:, "discriminator_loss"])
    again = GANAugmenter(discriminator_mixup=0.2, **TINY).fit(X, y)
    np.testing.assert_array_equal(again.sample(5, random_state=0)[0].to_numpy(), mixed.sample(5, random_state=0)[0].to_numpy())
    loss = plugins.resolve("gan_loss", "bce")()
    share = torch.tensor([0.0, 0.25, 1.0])
    expected = torch.nn.functional.binary_cross_entropy_with_logits(torch.zeros(3), share)
    assert torch.isclose(loss.mixup_loss(torch.zeros(3), share), expected)


@pytest.mark.parametrize("option", [{"discriminator_label_smoothing": 0.1}, {"discriminator_mixup": 0.2}])
def test_discriminator_options_are_refused_for_a_loss_without_targets(option):
    X, y = _table()
    with pytest.raises(ValueError, match="wgan_gp|WGANGPLoss"):
        GANAugmenter(loss="wgan_gp", **option, **TINY).fit(X, y)


def test_discriminator_label_smoothing_copies_a_loss_instance_rather_than_changing_it():
    X, y = _table()
    loss = plugins.resolve("gan_loss", "bce")()
    gan = GANAugmenter(loss=loss, discriminator_label_smoothing=0.3, **TINY).fit(X, y)
    assert loss.label_smoothing == 0.0 and gan.net_.criterion_.label_smoothing == 0.3
