"""Where the model runs and in which mode: the device and precision rules, and `eval_mode`."""

import pytest
import torch

from albert_explained.device import autocast, eval_mode, resolve_precision


def test_auto_precision_is_bf16_on_a_gpu_and_fp32_on_a_cpu():
    assert resolve_precision("auto", torch.device("cuda")) == "bf16"
    assert resolve_precision("auto", torch.device("cpu")) == "fp32"
    assert resolve_precision("bf16", torch.device("cpu")) == "bf16"
    with autocast(torch.device("cpu"), "bf16"):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
    with autocast(torch.device("cpu")):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32


@pytest.mark.parametrize("training", [True, False])
def test_eval_mode_turns_dropout_off_and_puts_the_mode_back_even_after_an_error(training):
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Dropout(0.5)).train(training)
    x = torch.ones(1000, 4)
    with eval_mode(model):
        assert not model.training and not model[1].training
        assert torch.equal(model(x), model(x))  # no dropout: the same output twice
    assert model.training == training and model[1].training == training
    with pytest.raises(RuntimeError, match="inside"):
        with eval_mode(model):
            raise RuntimeError("an error inside the block")
    assert model.training == training and model[1].training == training
