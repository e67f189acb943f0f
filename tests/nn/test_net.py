import torch
from torch import nn

from sklearn_adv.nn import BaseNet, EncoderHead


def _net():
    net = BaseNet(EncoderHead(nn.Identity(), nn.Linear(3, 2)), criterion=nn.CrossEntropyLoss(reduction="none"))
    return net.initialize()


def test_the_loss_reads_the_output_of_an_output_features_pair_and_averages_rows():
    net = _net()
    logits, target = torch.randn(6, 2), torch.tensor([0, 1, 0, 1, 1, 0])
    expected = nn.functional.cross_entropy(logits, target)
    torch.testing.assert_close(net.get_loss((logits, torch.zeros(6, 3)), target), expected)
    torch.testing.assert_close(net.get_loss(logits, {"target": target}), expected)


def test_the_loss_weights_rows_and_leaves_out_rows_of_weight_zero():
    net = _net()
    logits, target = torch.randn(6, 2), torch.tensor([0, 1, 0, 1, 1, 0])
    weight = torch.tensor([2.0, 2.0, 0.0, 0.0, 1.0, 1.0])
    losses = nn.functional.cross_entropy(logits, target, reduction="none")
    expected = (losses * weight).sum() / weight.sum()
    torch.testing.assert_close(net.get_loss(logits, {"target": target, "target_weight": weight}), expected)
    zero = {"target": target, "target_weight": torch.zeros(6)}
    assert net.get_loss(logits, zero).item() == 0.0
