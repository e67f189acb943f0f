"""TICKMeans: transformation-invariant k-means, discrete and deep solvers."""

import copy
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import ndimage
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.exceptions import NotFittedError
from skorch.callbacks import Callback

from sklearn_adv import TICKMeans, plugins
from sklearn_adv.cluster._warps import curriculum, warp_matrix
from sklearn_adv.cluster.transformations import (
    Affine,
    Colour,
    Morphological,
    Rotation,
    Transformation,
    Translation,
    warp_images,
)
from sklearn_adv.datasets import make_transformed_digits
from sklearn_adv.nn.networks import build_network
from sklearn_adv.nn.prototypes import (
    HeadRegressor,
    PrototypeNet,
    ReseedPrototypes,
    TransformedPrototypes,
    warm_start_heads,
)


def _accuracy(y, labels):
    """Clustering accuracy under the best one-to-one matching of clusters to classes."""
    table = np.zeros((y.max() + 1, labels.max() + 1))
    np.add.at(table, (y, labels), 1)
    rows, cols = linear_sum_assignment(-table)
    return table[rows, cols].sum() / len(y)


def _blob(size=10, seed=0):
    """A random non-negative image with a zero border of 2 pixels, so that shifts of 2 lose nothing."""
    image = np.zeros((size, size))
    image[2:-2, 2:-2] = np.random.RandomState(seed).uniform(0.2, 1.0, size=(size - 4, size - 4))
    return image


def _shift(image, dy, dx):
    return ndimage.shift(image, (dy, dx), order=0)


SHIFTS = [(0, 0), (1, -2), (-2, 1), (2, 2), (-1, 0), (0, 1)]


# -- the discrete solver finds transformations exactly ------------------------------------


def test_translation_search_finds_each_known_shift_exactly():
    prototype = _blob()
    X = np.stack([_shift(prototype, dy, dx) for dy, dx in SHIFTS])
    model = TICKMeans(n_clusters=1, transformations=Translation(max_shift=2), random_state=0).fit(X)
    # The prototype is learned up to a shift (and a ridge shrinkage of 1e-4);
    # a wrong shift anywhere would leave errors of order 1.
    np.testing.assert_allclose(model.align(X), X, atol=1e-3)
    assert model.inertia_ < 1e-6 * (X**2).sum()


def test_shifts_beyond_max_shift_are_not_searched():
    # Shifted by -2, 0 and +2: no image is within a shift of 1 of all three
    # (two of them alone would be, through their midpoint), every one is
    # within a shift of 2 of the middle one.
    prototype = _blob(12)
    X = np.stack([_shift(prototype, -2, 0), prototype, _shift(prototype, 2, 0)])
    narrow = TICKMeans(n_clusters=1, transformations=Translation(max_shift=1), n_init=1, random_state=0).fit(X)
    wide = TICKMeans(n_clusters=1, transformations=Translation(max_shift=2), n_init=1, random_state=0).fit(X)
    assert wide.inertia_ < 1e-6 * (X**2).sum()
    assert narrow.inertia_ > 0.1 * (X**2).sum() / 3


def test_two_shapes_under_shifts_form_two_clusters():
    bar, cross = np.zeros((9, 9)), np.zeros((9, 9))
    bar[2:7, 4] = 1.0
    cross[4, 3:6], cross[3:6, 4] = 1.0, 1.0
    X = np.stack([_shift(img, dy, dx) for img in (bar, cross) for dy, dx in SHIFTS])
    y = np.repeat([0, 1], len(SHIFTS))
    # Samples differ by shifts of up to 4 pixels, which the search must cover.
    labels = TICKMeans(n_clusters=2, transformations=Translation(max_shift=4), random_state=0).fit_predict(X)
    assert _accuracy(y, labels) == 1.0
    # Plain k-means splits them by position instead.
    assert _accuracy(y, KMeans(2, n_init=10, random_state=0).fit_predict(X.reshape(len(X), -1))) < 1.0


def test_rotations_explain_rotated_copies_far_better_than_shifts_alone():
    bar = np.zeros((11, 11))
    bar[2:9, 5] = 1.0
    X = np.stack([ndimage.rotate(bar, angle, reshape=False, order=1) for angle in (-30, 0, 30)])
    shifts_only = TICKMeans(n_clusters=1, transformations="translation", random_state=0).fit(X)
    with_rotations = TICKMeans(
        n_clusters=1, transformations=["translation", Rotation(max_angle=30, n_angles=3)], random_state=0
    ).fit(X)
    assert with_rotations.inertia_ < 0.3 * shifts_only.inertia_


def test_colour_fits_contrast_and_offset_in_closed_form():
    prototype = _blob()
    X = np.stack([prototype, 1.5 * prototype + 0.2, 0.7 * prototype - 0.1])
    plain = TICKMeans(n_clusters=1, transformations=Translation(max_shift=0), random_state=0).fit(X)
    model = TICKMeans(n_clusters=1, transformations=[Translation(max_shift=0), "colour"], random_state=0).fit(X)
    assert model.inertia_ < 1e-3 * plain.inertia_
    np.testing.assert_allclose(model.align(X), X, atol=1e-3)


def test_discrete_and_deep_forms_of_a_rotation_warp_alike():
    image = _blob(9)
    angle = np.radians(20.0)
    c, s = np.cos(angle), np.sin(angle)
    matrix = np.array([[c, -s, 1.0], [s, c, -1.0]])
    discrete = (warp_matrix(9, 9, matrix, circular=False) @ image.ravel()).reshape(9, 9)
    deep = warp_images(torch.tensor(image[None, None], dtype=torch.float32), torch.tensor(matrix[None], dtype=torch.float32))
    np.testing.assert_allclose(deep[0, 0].numpy(), discrete, atol=1e-5)


# -- the KMeans interface --------------------------------------------------------------------


@pytest.fixture(scope="module")
def shifted_pairs():
    bar, cross = np.zeros((9, 9)), np.zeros((9, 9))
    bar[2:7, 4] = 1.0
    cross[4, 3:6], cross[3:6, 4] = 1.0, 1.0
    rng = np.random.RandomState(0)
    X = np.stack([_shift(img, dy, dx) for img in (bar, cross) for dy, dx in SHIFTS]) + 0.05 * rng.rand(12, 9, 9)
    return X


def test_predict_transform_score_agree_as_in_kmeans(shifted_pairs):
    X = shifted_pairs
    model = TICKMeans(n_clusters=3, transformations=["translation", Rotation(n_angles=3)], random_state=0).fit(X)
    distances = model.transform(X)
    assert distances.shape == (len(X), 3)
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    np.testing.assert_array_equal(distances.argmin(axis=1), model.labels_)
    assert -model.score(X) == pytest.approx(model.inertia_, rel=1e-6)
    assert model.inertia_ == pytest.approx((distances.min(axis=1) ** 2).sum(), rel=1e-5)
    aligned = model.align(X)
    np.testing.assert_allclose(((X - aligned) ** 2).sum(axis=(1, 2)), distances.min(axis=1) ** 2, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(model.fit_predict(X), model.labels_)
    np.testing.assert_allclose(model.fit_transform(X), distances, rtol=1e-6)
    assert model.n_iter_ >= 1


def test_predict_on_one_sample_matches_predict_on_all(shifted_pairs):
    X = shifted_pairs
    model = TICKMeans(n_clusters=2, random_state=0).fit(X)
    one_by_one = np.concatenate([model.transform(X[i : i + 1]) for i in range(len(X))])
    np.testing.assert_allclose(one_by_one, model.transform(X), rtol=1e-12)


@pytest.mark.parametrize(
    "shape, image_shape, centers_shape",
    [
        ((12, 6, 7), None, (2, 6, 7)),
        ((12, 3, 6, 6), None, (2, 3, 6, 6)),
        ((12, 36), (6, 6), (2, 6, 6)),
        ((12, 72), (2, 6, 6), (2, 2, 6, 6)),
        ((12, 20), None, (2, 20)),
    ],
    ids=["n,H,W", "n,C,H,W", "flat with (H,W)", "flat with (C,H,W)", "1-D signals"],
)
def test_every_input_layout_keeps_its_shape(shape, image_shape, centers_shape):
    X = np.random.RandomState(0).rand(*shape).astype(np.float32)
    model = TICKMeans(n_clusters=2, image_shape=image_shape, n_init=1, random_state=0).fit(X)
    assert model.cluster_centers_.shape == centers_shape
    assert model.cluster_centers_.dtype == np.float32
    assert model.align(X).shape == X.shape
    assert model.transform(X).dtype == np.float32


def test_colour_works_per_channel_of_colour_images():
    rng = np.random.RandomState(0)
    prototype = rng.rand(3, 6, 6)
    gains = np.array([[1.0, 1.0, 1.0], [2.0, 0.5, 1.5], [0.8, 1.2, 0.6]])
    X = np.stack([g[:, None, None] * prototype + 0.1 for g in gains])
    model = TICKMeans(n_clusters=1, transformations=[Translation(max_shift=0), "colour"], random_state=0).fit(X)
    np.testing.assert_allclose(model.align(X), X, atol=1e-3)


def test_one_dimensional_signals_cluster_by_shape_whatever_their_shift():
    bump = np.r_[0, 1, 3, 1, 0, 0, 0, 0.0]
    step = np.r_[0, 2, 2, 2, 2, 2, 0, 0.0]
    X = np.stack([np.r_[np.zeros(s), base, np.zeros(6 - s)] for base in (bump, step) for s in range(6)])
    y = np.repeat([0, 1], 6)
    model = TICKMeans(n_clusters=2, transformations="translation", random_state=0).fit(X)
    assert _accuracy(y, model.labels_) == 1.0
    assert model.inertia_ < 1e-6 * (X**2).sum()


def test_circular_shifts_wrap_around_for_periodic_signals():
    signal = np.sin(np.linspace(0, 2 * np.pi, 16, endpoint=False)) + np.r_[np.ones(3), np.zeros(13)]
    X = np.stack([np.roll(signal, s) for s in (0, 3, 5, -4)])
    model = TICKMeans(n_clusters=1, transformations=Translation(max_shift=5, mode="circular"), random_state=0).fit(X)
    np.testing.assert_allclose(model.align(X), X, atol=1e-3)


def test_pandas_output_and_feature_names():
    X = pd.DataFrame(np.random.RandomState(0).rand(10, 6), columns=[f"t{i}" for i in range(6)])
    model = TICKMeans(n_clusters=2, n_init=1, random_state=0).set_output(transform="pandas").fit(X)
    out = model.transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["tickmeans0", "tickmeans1"]
    np.testing.assert_array_equal(model.feature_names_in_, X.columns)


def test_discrete_curriculum_switches_transformations_on_in_order(capsys, shifted_pairs):
    TICKMeans(n_clusters=2, transformations=["translation", "rotation"], n_init=1, n_swaps=0, verbose=1).fit(
        shifted_pairs
    )
    out = capsys.readouterr().out
    assert "stage 1/2 (25 maps)" in out  # 9x9 images: shifts up to 2, 5 x 5 maps
    assert "stage 2/2 (75 maps)" in out  # then times 3 rotations


# -- transformation plugins ----------------------------------------------------------------


def test_transformations_by_name_class_and_instance_give_the_same_model(shifted_pairs):
    X = shifted_pairs
    by_name = TICKMeans(n_clusters=2, transformations=["translation", "rotation"], random_state=0).fit(X)
    by_class = TICKMeans(n_clusters=2, transformations=[Translation, Rotation], random_state=0).fit(X)
    by_object = TICKMeans(n_clusters=2, transformations=[Translation(), Rotation()], random_state=0).fit(X)
    for other in (by_class, by_object):
        np.testing.assert_array_equal(other.labels_, by_name.labels_)
        np.testing.assert_allclose(other.cluster_centers_, by_name.cluster_centers_)


def test_a_registered_user_transformation_is_used_by_name(shifted_pairs):
    class Flip(Transformation):
        def grid(self, image_shape):
            return [np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])]

    plugins.register("transformation", "test-flip", Flip)
    try:
        X = np.stack([_blob(8), _blob(8)[:, ::-1]])
        model = TICKMeans(n_clusters=1, transformations="test-flip", random_state=0).fit(X)
        np.testing.assert_allclose(model.align(X), X, atol=1e-3)
    finally:
        plugins.unregister("transformation", "test-flip")


def test_builtin_transformations_are_registered():
    assert {"translation", "rotation", "affine", "colour", "morphological"} <= set(plugins.available("transformation"))


def test_affine_grid_holds_scales_and_shears():
    assert len(Affine().grid((8, 8))) == 9
    assert len(Colour().grid((8, 8))) == 1


def test_grid_params_are_the_deep_parameters_of_each_grid_map():
    translation = Translation(max_shift=2)
    shifts = np.stack(translation.grid((9, 9)))[:, :, 2]
    moved = 2 * np.tanh(translation.grid_params((9, 9)))
    # Shifts inside the range are exact; those at its edge are clipped to 0.95 of it.
    np.testing.assert_allclose(moved, np.clip(shifts, -1.9, 1.9), atol=1e-12)
    rotation = Rotation(max_angle=30, n_angles=5)
    angles = 30 * np.tanh(rotation.grid_params((9, 9))[:, 0])
    np.testing.assert_allclose(angles, [-28.5, -15, 0, 15, 28.5], atol=1e-12)
    for transformation in (Rotation(max_angle=0), Affine(), Colour(), Morphological()):
        assert transformation.grid_params((9, 9)) is None


def test_translational_transformations_act_last_whatever_their_class():
    class Nudge(Transformation):
        translational = True

        def grid(self, image_shape):
            return [np.array([[1.0, 0.0, 0.0], [0.0, 1.0, dx]]) for dx in (-1.0, 0.0, 1.0)]

    bank = curriculum([Nudge(), Rotation(max_angle=10)], (1, 9, 9))[-1]
    assert bank.shifts is not None and bank.shifts[:, 1].tolist() == [-1, -1, -1, 0, 0, 0, 1, 1, 1]
    encoder = build_network("mlp", (1, 4, 4), None)
    module = TransformedPrototypes(np.ones((2, 1, 4, 4)), [Translation(), Rotation(), Colour()], encoder)
    assert module.order == [1, 2, 0]


# -- the deep solver -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def deep_model(shifted_pairs):
    model = TICKMeans(
        n_clusters=2, method="deep", transformations=["translation", "rotation", "colour"], max_epochs=4, batch_size=6,
        random_state=0,
    )
    return model.fit(shifted_pairs)


def test_deep_solver_trains_a_net_and_switches_transformations_on_one_at_a_time(deep_model, shifted_pairs):
    # Translation and rotation start from the discrete solver's maps; colour switches on halfway.
    assert deep_model.history_[:, "n_active"] == [2, 2, 3, 3]
    assert len(deep_model.history_) == deep_model.n_iter_ == 4
    assert np.isfinite(deep_model.history_[:, "train_loss"]).all()
    X = shifted_pairs
    np.testing.assert_array_equal(deep_model.predict(X), deep_model.labels_)
    np.testing.assert_array_equal(deep_model.transform(X).argmin(axis=1), deep_model.labels_)
    assert -deep_model.score(X) == pytest.approx(deep_model.inertia_, rel=1e-5)
    assert deep_model.align(X).shape == X.shape
    assert deep_model.cluster_centers_.shape == (2, 9, 9)


def test_deep_solver_is_reproducible_and_pickles(deep_model, shifted_pairs):
    again = TICKMeans(**deep_model.get_params()).fit(shifted_pairs)
    np.testing.assert_allclose(again.transform(shifted_pairs), deep_model.transform(shifted_pairs), rtol=1e-5)
    restored = pickle.loads(pickle.dumps(deep_model))
    np.testing.assert_allclose(restored.transform(shifted_pairs), deep_model.transform(shifted_pairs), rtol=1e-6)


def _inertia_without_head(model, X, index):
    """The model's inertia on X with the head of transformation ``index`` set back to zero (the identity)."""
    model = copy.deepcopy(model)
    with torch.no_grad():
        model.net_.module_.heads[index].weight.zero_()
        model.net_.module_.heads[index].bias.zero_()
    return (model.transform(X).min(axis=1) ** 2).sum()


def test_deep_solver_learns_morphological_and_colour_transformations(shifted_pairs):
    X = shifted_pairs
    model = TICKMeans(
        n_clusters=2, method="deep", transformations=["colour", "morphological"], max_epochs=2, random_state=0
    ).fit(X)
    # Colour is on from the start, morphological switches on for the second epoch.
    assert model.history_[:, "n_active"] == [1, 2]
    heads = model.net_.module_.heads
    for index in (0, 1):
        # The heads start at zero (the identity): both have learned, and what
        # they learned lowers the error (small steps along the gradient).
        assert heads[index].weight.abs().max() > 1e-4
        assert _inertia_without_head(model, X, index) > model.inertia_ * (1 + 1e-4)


def test_deep_solver_takes_transformations_that_have_no_grid_alone(shifted_pairs):
    # The discrete warm start then runs on a stand-in translation, which warm-starts no head.
    model = TICKMeans(n_clusters=2, method="deep", transformations="morphological", max_epochs=1, random_state=0)
    model.fit(shifted_pairs)
    assert model.labels_.shape == (len(shifted_pairs),)


def test_deep_solver_trains_a_copy_of_an_encoder_instance_and_refits_alike(shifted_pairs):
    torch.manual_seed(0)
    encoder = build_network("convnet", (1, 9, 9), None, channels=(4,))
    weights = copy.deepcopy(encoder.state_dict())
    params = dict(n_clusters=2, method="deep", transformations="translation", max_epochs=2, encoder=encoder)
    first = TICKMeans(**params, random_state=0).fit(shifted_pairs)
    second = TICKMeans(**params, random_state=0).fit(shifted_pairs)
    # The caller's module is neither trained nor the one in the net.
    for name, value in encoder.state_dict().items():
        assert torch.equal(value, weights[name]), name
    assert first.net_.module_.encoder is not encoder
    # Each fit starts from the same weights, so two fits with one random_state agree.
    np.testing.assert_array_equal(first.cluster_centers_, second.cluster_centers_)
    np.testing.assert_array_equal(first.labels_, second.labels_)
    assert first.inertia_ == second.inertia_


def test_encoder_role_params_reach_the_default_conv_net(shifted_pairs):
    model = TICKMeans(
        n_clusters=2, method="deep", transformations="translation", max_epochs=1, encoder__channels=(4,), random_state=0
    )
    assert model.get_params()["encoder__channels"] == (4,)
    model.fit(shifted_pairs)
    convolutions = [m for m in model.net_.module_.encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [conv.out_channels for conv in convolutions] == [4]


def test_deep_solver_default_encoder_is_a_conv_net_of_16_and_32_channels(deep_model):
    convolutions = [m for m in deep_model.net_.module_.encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [conv.out_channels for conv in convolutions] == [16, 32]


class _Recorder(Callback):
    """Records the class of every net it trains in; ``poison_first`` makes the first net's parameters NaN."""

    def __init__(self, poison_first=False):
        self.poison_first = poison_first
        self.nets = []

    def on_train_begin(self, net, **kwargs):
        self.nets.append(type(net).__name__)
        if self.poison_first and len(self.nets) == 1:
            with torch.no_grad():
                for parameter in net.module_.parameters():
                    parameter.fill_(float("nan"))


def test_deep_solver_runs_the_users_callbacks_in_the_warm_start_and_in_training(shifted_pairs):
    recorder = _Recorder()
    model = TICKMeans(
        n_clusters=2, method="deep", transformations=["translation"], max_epochs=1, batch_size=6, callbacks=[recorder],
        random_state=0,
    ).fit(shifted_pairs)
    assert recorder.nets == ["HeadRegressor", "PrototypeNet"]
    assert any(callback is recorder for _, callback in model.net_.callbacks_)


def test_a_diverged_warm_start_stops_with_a_clear_error(shifted_pairs):
    recorder = _Recorder(poison_first=True)
    model = TICKMeans(
        n_clusters=2, method="deep", transformations=["translation"], max_epochs=1, batch_size=6, callbacks=[recorder],
        random_state=0,
    )
    with pytest.raises(FloatingPointError, match="Training diverged"):
        model.fit(shifted_pairs)
    # It stopped in the warm start: the prototypes' net never started.
    assert recorder.nets == ["HeadRegressor"]


def test_warm_start_heads_fits_the_targets_and_leaves_the_prototypes_alone():
    rng = np.random.RandomState(0)
    X = rng.rand(16, 1, 6, 6).astype(np.float32)
    torch.manual_seed(0)
    module = TransformedPrototypes(X[:3], [Translation()], build_network("mlp", (1, 6, 6), None))
    prototypes = module.prototypes.detach().clone()
    targets = {0: np.full((16, 3, 2), 0.3)}
    net = warm_start_heads(module, X, targets, lr=0.01, batch_size=16, max_epochs=60, verbose=0)
    assert isinstance(net, HeadRegressor) and len(net.history) == 60
    assert net.history[-1, "train_loss"] < 0.05 * net.history[0, "train_loss"]
    with torch.no_grad():
        predicted = module.heads[0](module.encoder(torch.as_tensor(X))).numpy()
    np.testing.assert_allclose(predicted, 0.3, atol=0.05)
    torch.testing.assert_close(module.prototypes.detach(), prototypes)
    assert warm_start_heads(module, X, {}) is None


def test_warm_start_heads_stops_on_a_diverged_loss():
    X = np.random.RandomState(0).rand(16, 1, 6, 6).astype(np.float32)
    module = TransformedPrototypes(X[:3], [Translation()], build_network("mlp", (1, 6, 6), None))
    with pytest.raises(FloatingPointError, match="Training diverged"):
        warm_start_heads(module, X, {0: np.full((16, 3, 2), np.inf)}, batch_size=16, max_epochs=2, verbose=0)


def test_prototypes_that_win_too_few_samples_are_reseeded_from_the_busiest():
    class Centres(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.centres = torch.nn.Parameter(torch.tensor([[0.0], [1.0], [100.0]]))

        def forward(self, X):
            return ((X[:, None, :] - self.centres[None]) ** 2).sum(-1)

        @torch.no_grad()
        def reseed(self, dst, src, generator=None):
            self.centres[dst] = self.centres[src] + 0.01

    X = np.r_[np.zeros(20), np.full(20, 3.0)].astype("float32")[:, None]
    net = PrototypeNet(
        Centres, max_epochs=2, lr=0.0, batch_size=40, callbacks=[ReseedPrototypes(0.2)], verbose=0
    ).fit(X)
    assert net.history[0, "n_reseeded"] == 1
    assert net.module_.centres[2].item() < 10.0


def test_empty_discrete_clusters_are_reseeded_with_badly_explained_samples():
    from sklearn_adv.cluster._discrete import Problem, lloyd

    X = np.r_[np.zeros((10, 4)), np.ones((10, 4)), np.full((2, 4), 5.0)].astype(np.float32)
    bank = curriculum([Translation(max_shift=0)], (1, 1, 4))[0]
    centers = np.stack([np.zeros(4), np.ones(4), np.full(4, 1000.0)]).astype(np.float32)[:, None, :]
    problem = Problem(X, max_iter=10, tol=1e-6, rng=np.random.RandomState(0))
    solution = lloyd(problem, bank, centers, bank.gram())
    assert np.bincount(solution.assignment.labels, minlength=3).min() > 0
    assert solution.inertia == pytest.approx(0.0, abs=1e-4)


# -- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, X, match",
    [
        ({"n_clusters": 5}, np.zeros((3, 6, 6)), "n_clusters"),
        ({"image_shape": (5, 5)}, np.zeros((4, 36)), "image_shape"),
        ({"image_shape": (6, 5)}, np.zeros((4, 6, 6)), "image_shape"),
        ({}, np.zeros((4, 2, 3, 6, 6)), "shape"),
        ({"transformations": "warp-drive"}, np.zeros((4, 6, 6)), "transformation"),
        ({"transformations": []}, np.zeros((4, 6, 6)), "transformations"),
        ({"transformations": "morphological"}, np.zeros((4, 6, 6)), "deep"),
        ({"transformations": Translation(max_shift=-1)}, np.zeros((4, 6, 6)), "max_shift"),
        ({"transformations": Rotation(n_angles=0)}, np.zeros((4, 6, 6)), "n_angles"),
        ({"transformations": Colour(scale_range=(2, 1))}, np.zeros((4, 6, 6)), "scale_range"),
        ({"method": "annealing"}, np.zeros((4, 6, 6)), "method"),
        ({"n_init": 0}, np.zeros((4, 6, 6)), "n_init"),
    ],
)
def test_bad_parameters_and_inputs_raise_naming_the_argument(params, X, match):
    with pytest.raises((ValueError, TypeError), match=match):
        TICKMeans(n_clusters=params.pop("n_clusters", 2), **params).fit(X)


def test_a_non_transformation_object_is_a_type_error():
    with pytest.raises(TypeError, match="transformation"):
        TICKMeans(n_clusters=2, transformations=[object()]).fit(np.zeros((4, 6, 6)))


def test_nan_images_are_refused_before_fitting():
    X = np.zeros((4, 6, 6))
    X[0, 1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        TICKMeans(n_clusters=2).fit(X)


def test_predict_needs_a_fit_and_images_of_the_fitted_shape(shifted_pairs):
    with pytest.raises(NotFittedError):
        TICKMeans().predict(shifted_pairs)
    model = TICKMeans(n_clusters=2, n_init=1, random_state=0).fit(shifted_pairs)
    with pytest.raises(ValueError, match="shape|features"):
        model.predict(np.zeros((2, 8, 8)))


def test_a_single_image_gets_a_hint_to_pass_a_batch_of_one(shifted_pairs):
    model = TICKMeans(n_clusters=2, n_init=1, random_state=0).fit(shifted_pairs)
    image = shifted_pairs[0]
    with pytest.raises(ValueError, match=r"A single image\? Pass it as a batch of one, X\[np.newaxis\]"):
        model.predict(image)
    assert model.predict(image[np.newaxis]).tolist() == model.predict(shifted_pairs[:1]).tolist()


@pytest.mark.parametrize("factor", [1e19, 2.0**70, 1e-25])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_huge_and_tiny_images_cluster_like_the_images(shifted_pairs, factor, dtype):
    # float32 squares of values past 1e19 overflow, those of values below 1e-23 vanish.
    params = {"n_clusters": 2, "transformations": ["translation", Rotation(n_angles=3)], "random_state": 0}
    reference = TICKMeans(**params).fit(shifted_pairs.astype(dtype))
    X = (shifted_pairs * factor).astype(dtype)
    model = TICKMeans(**params).fit(X)
    np.testing.assert_array_equal(model.labels_, reference.labels_)
    np.testing.assert_array_equal(model.predict(X), reference.labels_)
    assert model.cluster_centers_.dtype == dtype
    np.testing.assert_allclose(model.cluster_centers_ / factor, reference.cluster_centers_, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.transform(X) / factor, reference.transform(shifted_pairs.astype(dtype)), rtol=1e-4)
    assert model.inertia_ / factor**2 == pytest.approx(reference.inertia_, rel=1e-4)
    assert -model.score(X) == pytest.approx(model.inertia_, rel=1e-6)
    np.testing.assert_allclose(model.align(X) / factor, reference.align(shifted_pairs.astype(dtype)), rtol=1e-4, atol=1e-5)


def test_a_power_of_two_factor_scales_the_fit_exactly(shifted_pairs):
    reference = TICKMeans(n_clusters=2, random_state=0).fit(shifted_pairs)
    model = TICKMeans(n_clusters=2, random_state=0).fit(shifted_pairs * 2.0**80)
    np.testing.assert_array_equal(model.cluster_centers_, reference.cluster_centers_ * 2.0**80)
    assert model.inertia_ == reference.inertia_ * 2.0**160


def test_flat_rows_of_a_square_length_warn_that_they_are_read_as_signals():
    X = np.random.RandomState(0).rand(6, 64)
    with pytest.warns(UserWarning, match=r"image_shape=\(8, 8\) or X reshaped to \(n_samples, 8, 8\)"):
        TICKMeans(n_clusters=2, n_init=1, random_state=0).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        signals = TICKMeans(n_clusters=2, n_init=1, image_shape=(1, 64), random_state=0).fit(X)
        TICKMeans(n_clusters=2, n_init=1, image_shape=(8, 8), random_state=0).fit(X)
        TICKMeans(n_clusters=2, n_init=1, random_state=0).fit(X.reshape(6, 8, 8))
        TICKMeans(n_clusters=2, n_init=1, random_state=0).fit(X[:, :20])  # not a square
        TICKMeans(n_clusters=2, n_init=1, random_state=0).fit(X[:, :16])  # 4x4: too small to be an image
    with pytest.warns(UserWarning):
        as_rows = TICKMeans(n_clusters=2, n_init=1, random_state=0).fit(X)
    # image_shape=(1, length) is the same 1-D clustering, said explicitly.
    np.testing.assert_array_equal(signals.cluster_centers_.reshape(2, 64), as_rows.cluster_centers_)


@pytest.mark.parametrize(
    "shape, match",
    [
        ((3, 7, 7), r"X holds images of shape \(7, 7\), but TICKMeans was fitted on images of shape \(6, 6\)"),
        ((3, 49), r"X holds flat rows of 49 values, but TICKMeans was fitted on images of shape \(6, 6\)"),
        ((3, 36), r"flat rows of 36 values, .* pass X of shape \(n_samples, 6, 6\)"),
        ((3, 1, 6, 6), r"X holds images of shape \(1, 6, 6\)"),
    ],
)
def test_an_image_size_mismatch_at_predict_speaks_of_image_shapes(shape, match):
    model = TICKMeans(n_clusters=2, n_init=1, random_state=0).fit(np.random.RandomState(0).rand(6, 6, 6))
    for method in (model.predict, model.transform, model.score, model.align):
        with pytest.raises(ValueError, match=match) as error:
            method(np.zeros(shape))
        assert "features" not in str(error.value)


def test_a_flat_image_size_mismatch_names_the_fitted_image_shape():
    model = TICKMeans(n_clusters=2, n_init=1, image_shape=(6, 6), random_state=0).fit(np.random.RandomState(0).rand(6, 36))
    with pytest.raises(ValueError, match=r"X holds flat rows of 49 values, .* flat rows of 36 values \(image_shape=\(6, 6\)\)"):
        model.predict(np.zeros((3, 49)))


def test_inputs_are_not_modified(shifted_pairs):
    X = shifted_pairs.copy()
    model = TICKMeans(n_clusters=2, transformations=["translation", "colour"], random_state=0).fit(X)
    model.align(X)
    np.testing.assert_array_equal(X, shifted_pairs)


# -- statistics: invariance pays on moved digits ---------------------------------------------


def test_beats_kmeans_on_shifted_digits():
    images, y = make_transformed_digits(max_rotation=0, random_state=0)
    keep = np.isin(y, [0, 1, 4, 7])[:400] & True
    X, y = images[:400][keep], y[:400][keep]
    y = np.unique(y, return_inverse=True)[1]
    ours = TICKMeans(n_clusters=4, transformations=Translation(max_shift=2), random_state=0).fit_predict(X)
    kmeans = KMeans(4, n_init=10, random_state=0).fit_predict(X.reshape(len(X), -1))
    assert _accuracy(y, ours) > _accuracy(y, kmeans) + 0.2
    assert _accuracy(y, ours) > 0.85


@pytest.mark.slow
def test_default_parameters_reach_080_on_transformed_digits():
    X, y = make_transformed_digits(random_state=0)
    labels = TICKMeans(n_clusters=10, random_state=0).fit_predict(X)
    assert _accuracy(y, labels) >= 0.80
    assert _accuracy(y, KMeans(10, n_init=10, random_state=0).fit_predict(X.reshape(len(X), -1))) < 0.3


def test_plot_prototypes_draws_prototypes_samples_and_alignments(shifted_pairs):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sklearn_adv.cluster import plot_prototypes

    model = TICKMeans(n_clusters=2, n_init=1, random_state=0).fit(shifted_pairs)
    fig = plot_prototypes(model, shifted_pairs, n_samples=5)
    visible = [ax for ax in fig.axes if ax.axison]
    assert len(visible) == 2 + 2 * 5
    first = fig.axes[0].images[0].get_array()
    np.testing.assert_allclose(first, model.cluster_centers_[0])
    plt.close(fig)


@pytest.mark.parametrize("shape", [(10, 16), (10, 2, 6, 6)], ids=["1-D signals", "colour images"])
def test_deep_solver_takes_signals_and_colour_images(shape):
    X = np.random.RandomState(0).rand(*shape).astype(np.float32)
    model = TICKMeans(n_clusters=2, method="deep", max_epochs=1, n_init=1, random_state=0).fit(X)
    assert model.align(X).shape == X.shape
    assert model.cluster_centers_.shape == (2, *shape[1:])


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_asking_for_cuda_without_it_fails_before_fitting():
    with pytest.raises(ValueError, match="cuda"):
        TICKMeans(n_clusters=2, device="cuda").fit(np.zeros((4, 6, 6)))


def test_warp_bank_gram_equals_the_per_map_products():
    # The grams are computed for all maps in one sparse product; they must
    # equal each map's own A_b^T A_b.
    bank = curriculum([Translation(), Rotation()], (1, 10, 10))[-1]
    assert not bank.diagonal
    expected = np.stack(
        [(bank.A[b * bank.hw : (b + 1) * bank.hw].T @ bank.A[b * bank.hw : (b + 1) * bank.hw]).toarray().ravel()
         for b in range(bank.n_ops)]
    )
    np.testing.assert_array_equal(bank.gram(), expected.astype(np.float32))
    assert curriculum([Translation()], (1, 10, 10))[0].gram() is None


@pytest.mark.parametrize("transformations", [[Translation(), Rotation()], [Translation(), Colour()]])
def test_discrete_assignment_without_per_cluster_maps_is_unchanged(transformations):
    # The fit's assignments skip each cluster's best map and search only the
    # best cluster's; labels, maps, distances and colour must not change.
    from sklearn_adv.cluster._discrete import _assign, _transform_prototypes, sq_norms

    rng = np.random.RandomState(0)
    X = rng.rand(300, 64).astype(np.float32)
    bank = curriculum(transformations, (1, 8, 8))[-1]
    P = _transform_prototypes(bank, rng.rand(4, 1, 64).astype(np.float32))
    full = _assign(X, sq_norms(X), bank, P, chunk_size=70, with_ops=True)
    fast = _assign(X, sq_norms(X), bank, P, chunk_size=70)
    assert fast.per_cluster_ops is None
    for name in ("labels", "ops", "best", "per_cluster", "scale", "offset"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(full, name))
    np.testing.assert_array_equal(full.ops, full.per_cluster_ops[np.arange(300), full.labels])


def test_swap_moves_stop_after_three_undone_in_a_row(capsys):
    # Two well separated blobs: no swap can lower the objective, so the
    # swaps stop after three are undone instead of trying all twenty.
    from sklearn_adv.cluster._discrete import Problem, Solution, lloyd, swap_moves

    rng = np.random.RandomState(0)
    X = np.r_[rng.normal(0, 0.1, (30, 4)), rng.normal(5, 0.1, (30, 4))].astype(np.float32)
    bank = curriculum([Translation(max_shift=0)], (1, 1, 4))[0]
    problem = Problem(X, max_iter=20, tol=1e-6, rng=rng, verbose=1)
    start = lloyd(problem, bank, X[[0, 30]].reshape(2, 1, 4).copy(), bank.gram())
    capsys.readouterr()
    result = swap_moves(problem, bank, bank.gram(), start, n_swaps=20)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(line.endswith("(undone)") for line in lines)
    assert isinstance(result, Solution) and result.inertia == start.inertia
