import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from skorch import NeuralNetClassifier
from torch import nn

from sklearn_adv import NeuralClassifier, plugins
from sklearn_adv.nn import (
    MLP,
    AdversarialNet,
    AnnealLR,
    ConvNet,
    GradientReversal,
    Mixup,
    build_network,
    ganin_schedule,
    resolve_device,
    reverse_gradient,
    seed_from,
    torch_seed,
)
from sklearn_adv.nn.callbacks import cutmix_box
from sklearn_adv.nn.data import as_network_input, check_image_shape
from sklearn_adv.nn.sampling import RowsDataset, batched_loader


def test_gradient_reversal_flips_and_scales_the_gradient():
    x = torch.randn(5, requires_grad=True)
    (reverse_gradient(x, 0.3) * torch.arange(5.0)).sum().backward()
    torch.testing.assert_close(x.grad, -0.3 * torch.arange(5.0))


def test_gradient_reversal_is_the_identity_forward():
    x = torch.randn(4, 3)
    torch.testing.assert_close(GradientReversal(2.0)(x), x)


def test_mlp_and_convnet_are_chosen_from_the_data():
    assert isinstance(build_network(None, (7,), 2), MLP)
    assert isinstance(build_network(None, (3, 16, 16), 2), ConvNet)
    assert build_network(None, (3, 16, 16), 2)(torch.zeros(4, 3, 16, 16)).shape == (4, 2)


def test_networks_without_output_layer_expose_their_feature_size():
    encoder = build_network("mlp", (5,), None, hidden_units=(12, 6))
    assert encoder.out_features == 6
    assert encoder(torch.zeros(2, 5)).shape == (2, 6)


def test_build_network_accepts_name_class_and_instance():
    instance = nn.Linear(3, 2)
    assert build_network(instance, (3,), 2) is instance
    assert isinstance(build_network(MLP, (3,), 2), MLP)
    with pytest.raises(ValueError, match="already built"):
        build_network(instance, (3,), 2, hidden_units=(4,))
    with pytest.raises(ValueError, match="registered networks"):
        build_network("no-such-network", (3,), 2)


def test_unknown_activation_names_the_choices():
    with pytest.raises(ValueError, match="relu"):
        MLP(3, 2, activation="swishy")


def test_plugins_register_resolve_and_list():
    @plugins.register("network", "test-only-net")
    class Net(nn.Module):
        pass

    try:
        assert plugins.resolve("network", "test-only-net") is Net
        assert "test-only-net" in plugins.available("network")
        assert "mlp" in plugins.available("network")
    finally:
        plugins.unregister("network", "test-only-net")
    with pytest.raises(ValueError, match="Unknown plugin kind"):
        plugins.register("colour", "x", Net)


def test_plugin_loading_skips_missing_families_but_not_broken_modules(monkeypatch, tmp_path):
    broken = tmp_path / "broken_plugin_module.py"
    broken.write_text("import a_package_that_does_not_exist\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(plugins, "_loaded", False)
    monkeypatch.setattr(plugins, "_BUILTIN_MODULES", ("sklearn_adv.no_such_family.components", "sklearn_adv.nn.networks"))
    assert "mlp" in plugins.available("network")

    monkeypatch.setattr(plugins, "_loaded", False)
    monkeypatch.setattr(plugins, "_BUILTIN_MODULES", ("broken_plugin_module",))
    with pytest.raises(ModuleNotFoundError, match="a_package_that_does_not_exist"):
        plugins.available("network")


def test_image_inputs_are_shaped_for_networks():
    X, shape = as_network_input(np.zeros((4, 2, 3, 3)))
    assert X.shape == (4, 2, 3, 3) and shape == (2, 3, 3)
    X, shape = as_network_input(np.zeros((4, 3, 3)))
    assert X.shape == (4, 1, 3, 3)
    X, shape = as_network_input(np.zeros((4, 9)), image_shape=(3, 3))
    assert X.shape == (4, 1, 3, 3) and shape == (1, 3, 3)
    with pytest.raises(ValueError, match="image_shape"):
        check_image_shape((4, 4), n_features=9)


def test_rows_read_as_signals_are_one_channel_images_of_height_one():
    X, shape = as_network_input(np.arange(12.0).reshape(2, 6), signals=True)
    assert X.shape == (2, 1, 1, 6) and shape == (1, 1, 6)
    assert as_network_input(np.zeros((2, 6)), image_shape=(2, 3), signals=True)[1] == (1, 2, 3)


def test_devices_are_checked_before_training():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") in ("cpu", "cuda")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            resolve_device("cuda")
    with pytest.raises(TypeError, match="device"):
        resolve_device(3)


def test_torch_seed_restores_the_callers_random_state():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    with torch_seed(0):
        torch.rand(10)
    torch.testing.assert_close(torch.rand(3), expected)


def test_seed_from_is_deterministic():
    assert seed_from(5) == seed_from(5)
    assert seed_from(np.random.RandomState(1)) == seed_from(np.random.RandomState(1))


def test_ganin_schedule_ramps_from_zero_to_one():
    assert ganin_schedule(0.0) == 0.0
    assert 0.99 < ganin_schedule(1.0) <= 1.0
    assert ganin_schedule(0.2) < ganin_schedule(0.5)


# -- the adversarial net -----------------------------------------------------


class MainModule(nn.Module):
    def __init__(self, in_features=4):
        super().__init__()
        self.encoder = MLP(in_features, None, hidden_units=(16,))
        self.head = nn.Linear(16, 2)

    def forward(self, X):
        representation = self.encoder(X)
        return self.head(representation), representation


def _leaky_data(n=256):
    # The task needs feature 0 only; the attribute is feature 1's sign.
    rng = np.random.RandomState(0)
    X = rng.randn(n, 4).astype("float32")
    sensitive = (X[:, 1] > 0).astype("float32")
    y = (X[:, 0] > 0).astype("int64")
    return X, {"target": y, "adversary": sensitive[:, None]}


def _adversarial_net(training="reversal", **kwargs):
    params = dict(
        criterion=nn.CrossEntropyLoss,
        criterion__reduction="none",
        adversary_criterion=nn.BCEWithLogitsLoss,
        adversary_criterion__reduction="none",
        adversary__in_shape=(16,),
        adversary__out_features=1,
        adversary__hidden_units=(8,),
        training=training,
        max_epochs=3,
        lr=0.01,
        optimizer=torch.optim.Adam,
        train_split=None,
        verbose=0,
    )
    params.update(kwargs)
    return AdversarialNet(MainModule, MLP, **params)


def _weights(net):
    return [p.detach().clone() for p in net.module_.parameters()] + [p.detach().clone() for p in net.adversary_.parameters()]


@pytest.mark.parametrize("training", ["reversal", "alternating"])
def test_same_seed_gives_bit_identical_weights(training):
    X, y = _leaky_data()
    runs = []
    for _ in range(2):
        with torch_seed(7):
            runs.append(_weights(_adversarial_net(training).fit(X, y)))
    for first, second in zip(*runs):
        assert torch.equal(first, second)


@pytest.mark.parametrize("training", ["reversal", "alternating"])
def test_history_records_main_and_adversary_losses(training):
    X, y = _leaky_data()
    with torch_seed(0):
        net = _adversarial_net(training).fit(X, y)
    for key in ("train_loss", "main_loss", "adversary_loss", "adversary_accuracy"):
        assert len(net.history[:, key]) == 3
    assert all(0 <= acc <= 1 for acc in net.history[:, "adversary_accuracy"])


def test_reversal_pushes_the_encoder_against_the_adversary():
    # At weight 0 the adversary reads the attribute off the representation;
    # at a large weight the reversed gradient makes the encoder hide it.
    X, y = _leaky_data(512)
    accuracy = {}
    for weight in (0.0, 5.0):
        with torch_seed(0):
            net = _adversarial_net(adversary_weight=weight, max_epochs=30, batch_size=64).fit(X, y)
        accuracy[weight] = net.history[-1, "adversary_accuracy"]
    assert accuracy[0.0] > 0.85
    assert accuracy[5.0] < accuracy[0.0] - 0.1


def test_only_weighted_rows_count_in_the_main_loss():
    X, y = _leaky_data()
    y = dict(y, target_weight=np.zeros(len(X), dtype="float32"))
    with torch_seed(0):
        net = _adversarial_net().fit(X, y)
    assert net.history[-1, "main_loss"] == 0.0


def test_schedule_and_annealing_follow_training_progress():
    X, y = _leaky_data()
    with torch_seed(0):
        net = _adversarial_net(adversary_schedule="ganin", adversary_weight=2.0, max_epochs=4, callbacks=[AnnealLR()]).fit(X, y)
    weights = net.history[:, "batches", :, "adversary_weight"]
    flat = [w for epoch in weights for w in epoch]
    assert flat[0] == 0.0 and flat == sorted(flat) and flat[-1] < 2.0
    assert net.optimizer_.param_groups[0]["lr"] < 0.01


def test_diverging_training_stops_with_a_clear_error():
    X, y = _leaky_data()
    X[0, 0] = np.nan
    with pytest.raises(FloatingPointError, match="diverged"):
        with torch_seed(0):
            _adversarial_net().fit(X, y)


def test_unknown_training_mode_is_rejected():
    X, y = _leaky_data()
    with pytest.raises(ValueError, match="training"):
        _adversarial_net(training="sideways").fit(X, y)


def test_adversarial_net_pickles_and_predicts_the_same():
    X, y = _leaky_data()
    with torch_seed(0):
        net = _adversarial_net().fit(X, y)
    restored = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(restored.adversary_predict(X).numpy(), net.adversary_predict(X).numpy())


def test_predicted_outputs_of_a_row_do_not_depend_on_the_order_of_the_rows():
    # 60 rows in batches of 16: without padding, a row moved into the last,
    # shorter, batch goes through another matrix kernel.
    X, y = _leaky_data(60)
    with torch_seed(0):
        net = _adversarial_net(batch_size=16).fit(X, y)
    order = np.random.RandomState(0).permutation(len(X))
    outputs, shuffled = net.predict_outputs(X), net.predict_outputs(X[order])
    for output, output_shuffled in zip(outputs, shuffled):
        assert output.shape[0] == len(X)
        assert torch.equal(output[order], output_shuffled)


def test_the_adversarys_own_optimizer_is_registered_for_devices_and_pickling():
    X, y = _leaky_data()
    with torch_seed(0):
        net = _adversarial_net("alternating", max_epochs=1).fit(X, y)
    net.initialize()  # a second initialisation registers nothing twice
    assert net.cuda_dependent_attributes_.count("adversary_optimizer_") == 1
    assert "adversary_optimizer" in net._optimizers


def test_role_parameters_reach_the_adversary():
    X, y = _leaky_data()
    with torch_seed(0):
        net = _adversarial_net(adversary__hidden_units=(3,)).fit(X, y)
    assert net.adversary_.layers[0].out_features == 3


# -- in-batch mixup ----------------------------------------------------------


def test_mixup_callback_mixes_training_batches_only():
    X = np.random.RandomState(0).randn(64, 4).astype("float32")
    y = (X[:, 0] > 0).astype("int64")
    seen = []

    class Recorder(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(4, 2)

        def forward(self, x):
            seen.append(x.detach().clone())
            return self.linear(x)

    net = NeuralNetClassifier(
        Recorder, criterion=nn.CrossEntropyLoss, max_epochs=1, batch_size=64, train_split=None, verbose=0,
        callbacks=[Mixup(alpha=1.0, random_state=0)],
    )
    net.fit(X, y)
    assert not torch.allclose(seen[0], torch.from_numpy(X))  # the training batch was mixed
    net.predict_proba(X)
    torch.testing.assert_close(seen[-1], torch.from_numpy(X))  # prediction is not
    assert not hasattr(net.criterion_, "callback")  # the plain criterion is back after fit


def test_mixup_loss_equals_the_loss_on_soft_labels():
    callback = Mixup(alpha=1.0, random_state=0).initialize()
    logits = torch.randn(6, 3)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    callback.lam_, callback.perm_ = 0.3, torch.tensor([1, 2, 0, 4, 5, 3])
    from sklearn_adv.nn.callbacks import _MixedCriterion

    mixed = _MixedCriterion(nn.CrossEntropyLoss(), callback)(logits, y)
    soft = 0.3 * nn.functional.one_hot(y, 3) + 0.7 * nn.functional.one_hot(y[callback.perm_], 3)
    torch.testing.assert_close(mixed, nn.CrossEntropyLoss()(logits, soft.float()))


def test_cutmix_box_covers_about_one_minus_lambda():
    rng = np.random.default_rng(0)
    areas = []
    for _ in range(200):
        top, bottom, left, right = cutmix_box(32, 32, 0.75, rng)
        assert 0 <= top <= bottom <= 32 and 0 <= left <= right <= 32
        areas.append((bottom - top) * (right - left) / 32**2)
    assert max(areas) <= 0.25 + 1e-9 and np.mean(areas) > 0.1


def test_rows_dataset_indexes_a_whole_batch_of_rows_and_every_target():
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = {"target": np.arange(6), "adversary": np.arange(6) % 2}
    dataset = RowsDataset(X, y)
    Xb, yb = dataset[np.array([4, 1])]
    assert len(dataset) == 6
    torch.testing.assert_close(Xb, torch.tensor([[8.0, 9.0], [2.0, 3.0]]))
    assert yb["target"].tolist() == [4, 1] and yb["adversary"].tolist() == [0, 1]
    assert RowsDataset(X, np.arange(6))[np.array([5])][1].tolist() == [5]
    assert RowsDataset(X)[np.array([0])][0].shape == (1, 2)



@pytest.mark.parametrize("y", [None, np.arange(10), {"target": np.arange(10), "adversary": np.arange(10) % 2}])
def test_batched_loader_walks_every_row_once_per_epoch_in_a_seeded_order(y):
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    loader = batched_loader(RowsDataset(X, y), batch_size=4, shuffle=True)

    def epoch(seed):
        torch.manual_seed(seed)
        batches = list(loader)
        rows = torch.cat([Xb[:, 0] for Xb, _ in batches]) / 2
        if isinstance(y, dict):
            # Targets travel with their rows.
            assert torch.equal(torch.cat([yb["target"] for _, yb in batches]).float(), rows)
        return [len(Xb) for Xb, _ in batches], rows.tolist()

    sizes, rows = epoch(0)
    assert len(loader) == 3 and sizes == [4, 4, 2]
    assert sorted(rows) == list(range(10)) and rows != list(range(10))
    assert epoch(0)[1] == rows and epoch(1)[1] != rows
    in_order = [Xb[:, 0].tolist() for Xb, _ in batched_loader(RowsDataset(X, y), batch_size=4)]
    assert in_order == [[0.0, 2.0, 4.0, 6.0], [8.0, 10.0, 12.0, 14.0], [16.0, 18.0]]


def test_cutmix_box_of_one_lambda_is_the_one_box_array_call():
    scalar = cutmix_box(28, 20, 0.3, np.random.default_rng(3))
    array = cutmix_box(28, 20, np.array([0.3]), np.random.default_rng(3))
    assert all(isinstance(corner, int) for corner in scalar)
    assert scalar == tuple(int(corner[0]) for corner in array)


def test_cutmix_box_draws_one_box_per_lambda():
    lams = np.full(500, 0.75)
    top, bottom, left, right = cutmix_box(32, 32, lams, np.random.default_rng(0))
    assert top.shape == bottom.shape == left.shape == right.shape == (500,)
    assert np.all((0 <= top) & (top <= bottom) & (bottom <= 32) & (0 <= left) & (left <= right) & (right <= 32))
    areas = (bottom - top) * (right - left) / 32**2
    assert areas.max() <= 0.25 + 1e-9 and areas.mean() > 0.1


def test_rows_dataset_takes_read_only_arrays_without_a_torch_warning():
    # pandas 3 hands out read-only arrays; torch warns when it shares one.
    X = np.arange(12.0).reshape(6, 2)
    y = np.arange(6)
    X.flags.writeable = False
    y.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = RowsDataset(X, {"target": y})
    rows, targets = data[np.array([1, 3])]
    np.testing.assert_array_equal(rows.numpy(), X[[1, 3]])
    np.testing.assert_array_equal(targets["target"].numpy(), y[[1, 3]])


# -- max_epochs="auto": a budget of steps ----------------------------------------


@pytest.mark.parametrize(
    ("n_rows", "batch_size", "epochs"),
    [
        (500, 500, 2000),  # one step an epoch: the cap on epochs
        (5000, 500, 200),  # 10 steps an epoch
        (30000, 500, 34),  # 60 steps an epoch
        (10**7, 500, 10),  # the fewest epochs
    ],
)
def test_auto_epochs_aim_at_a_number_of_steps(n_rows, batch_size, epochs):
    assert NeuralClassifier(max_epochs="auto", batch_size=batch_size)._epochs_for(n_rows) == epochs


def test_a_number_of_epochs_is_taken_as_given():
    assert NeuralClassifier(max_epochs=7)._epochs_for(123_456) == 7


def test_auto_epochs_are_what_the_net_trains_and_are_recorded():
    class FewSteps(NeuralClassifier):
        _auto_steps = 20
        _auto_epochs = (3, 50)

    X, y = make_classification(100, 4, random_state=0)
    clf = FewSteps(max_epochs="auto", batch_size=50, random_state=0).fit(X, y)
    assert clf.n_epochs_ == 10  # 2 steps an epoch
    assert len(clf.history_) == 10
