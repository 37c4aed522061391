"""Checkpoints: `from_pretrained` and `save_pretrained` speak the reference's format, safely and atomically.

The issue's requirements, each checked here against transformers (the reference) or an independent computation:

- `save_pretrained(path)` writes config.json + model.safetensors with the reference's state-dict keys, and
  transformers' `from_pretrained` on that directory reports no missing or unexpected keys and gives the same
  outputs; the reverse holds for checkpoints that transformers writes, both model.safetensors and pytorch_model.bin
  (`save_pretrained(safe_serialization=False)`). Shown for AlbertForPreTraining and for BertModel.
- Missing keys (a fresh task head on a pretrained encoder) are reported by name, with a warning, as the reference
  reports them; unexpected keys likewise; mis-shaped keys are a ValueError that names the key.
- The partial sharing strategies round-trip and load in transformers as ordinary not-shared models; a checkpoint
  whose layers differ cannot be loaded into a config that shares them.
- Writing is atomic: a full disk midway leaves an existing checkpoint byte-for-byte as it was, with no temporary file,
  and says so (tests/test_faults.py kills saves outright and fills real file-size limits).
- Loading keeps the weights in the file's memory map: the parameters are the mapped tensors (on Linux, read from
  /proc/self/maps), training never writes the file, and saving over the file a model came from leaves that model as
  it was. Tensors that cannot be parameters as they are (another dtype, the MLM decoder's tied weight and bias,
  tensors that share memory or are not contiguous, as a torch.save'd state dict can hold) load as copies.
- A truncated or corrupt weights file is a ValueError that names the file; a pickle that would run code is refused
  without running it.
- A hub id offline fails within seconds and says how to load a local directory; a name that is neither a directory
  nor a hub id is a FileNotFoundError.
- A hub id whose files are in the huggingface_hub cache (laid out as huggingface_hub lays out a download) loads from
  there with HF_HUB_OFFLINE=1, model and tokenizer, through `load_if_available`, the notebooks' optional cells;
  offline without a cache it returns the reason in one line, within seconds.

Every model has its parameters perturbed before saving: a fresh model has zero biases and identity LayerNorms, which
would hide a bias or a LayerNorm loaded into the wrong place. No test contacts a real host: the hub tests point
HF_ENDPOINT at a closed local port.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import pickle
import re
import time
import warnings

import pytest
import torch
import transformers
from safetensors.torch import load_file, save_file

import albert_explained
import albert_explained.weights
from albert_explained import (
    AlbertConfig,
    AlbertForMaskedLM,
    AlbertForPreTraining,
    AlbertForSequenceClassification,
    AlbertModel,
    BertConfig,
)
from albert_explained.bert import BertModel
from albert_explained.bundled import load_if_available
from albert_explained.tokenizer import AlbertTokenizer
from albert_explained.weights import LoadingInfo

# Tiny sizes shared by our configs and the reference's: the file runs in seconds.
SIZES = dict(
    vocab_size=99,
    hidden_size=32,
    num_hidden_layers=3,
    num_attention_heads=4,
    intermediate_size=37,
    max_position_embeddings=20,
)
E = 16
B, T = 2, 7
CLOSED_PORT = "http://127.0.0.1:9"  # the discard port on this machine; nothing listens, so connections are refused


def albert_config(**overrides) -> AlbertConfig:
    return AlbertConfig(**{**SIZES, "embedding_size": E, **overrides})


def reference_albert_config(**overrides) -> transformers.AlbertConfig:
    return transformers.AlbertConfig(
        **{**SIZES, "embedding_size": E, "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0, **overrides}
    )


def bert_config(**overrides) -> BertConfig:
    return BertConfig(**{**SIZES, **overrides})


def reference_bert_config(**overrides) -> transformers.BertConfig:
    return transformers.BertConfig(**{**SIZES, **overrides})


@torch.no_grad()
def perturbed(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Add noise to every parameter (shared ones once), so that every tensor is distinct and non-trivial."""
    generator = torch.Generator().manual_seed(seed)
    for parameter in model.parameters():
        parameter.add_(0.1 * torch.randn(parameter.shape, generator=generator))
    return model.eval()


def batch() -> dict[str, torch.Tensor]:
    """Two sequences, the second padded, with both segments: every input that changes the output."""
    generator = torch.Generator().manual_seed(1)
    input_ids = torch.randint(5, SIZES["vocab_size"], (B, T), generator=generator)  # (B, T)
    attention_mask = torch.ones(B, T, dtype=torch.long)
    attention_mask[1, -3:] = 0
    token_type_ids = torch.zeros(B, T, dtype=torch.long)
    token_type_ids[:, T // 2 :] = 1
    return dict(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)


def assert_same_outputs(ours, theirs, fields: tuple[str, ...]) -> None:
    for name in fields:
        torch.testing.assert_close(getattr(ours, name), getattr(theirs, name), rtol=1e-4, atol=1e-5, msg=name)


def run(model: torch.nn.Module, inputs: dict[str, torch.Tensor]):
    with torch.no_grad():
        return model(**inputs)


def snapshot(directory: pathlib.Path) -> dict[str, bytes]:
    """Every file in a directory (hidden ones included), by name, with its bytes."""
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def save_reference(model: transformers.PreTrainedModel, directory: pathlib.Path, weights_file: str) -> None:
    model.save_pretrained(directory, safe_serialization=weights_file == "model.safetensors")
    assert sorted(os.listdir(directory)) == sorted(["config.json", weights_file])


WEIGHTS_FILES = ["model.safetensors", "pytorch_model.bin"]


# ---------------------------------------------------------------------------------------------------------------
# Both directions of the reference format
# ---------------------------------------------------------------------------------------------------------------


def test_our_albert_for_pretraining_checkpoint_loads_in_transformers_with_the_same_outputs(tmp_path):
    ours = perturbed(AlbertForPreTraining(albert_config()))
    ours.save_pretrained(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["config.json", "model.safetensors"]

    theirs, info = transformers.AlbertForPreTraining.from_pretrained(tmp_path, output_loading_info=True)
    assert info == {"missing_keys": [], "unexpected_keys": [], "mismatched_keys": [], "error_msgs": []}
    inputs = batch()
    assert_same_outputs(run(ours, inputs), run(theirs.eval(), inputs), ("prediction_logits", "sop_logits"))


def test_we_write_the_same_keys_and_shapes_as_transformers(tmp_path):
    """Same architecture, same file contents by name and shape (the tied decoder weight is stored once, as there)."""
    perturbed(AlbertForPreTraining(albert_config())).save_pretrained(tmp_path / "ours")
    transformers.AlbertForPreTraining(reference_albert_config()).save_pretrained(tmp_path / "theirs")
    ours, theirs = (load_file(tmp_path / name / "model.safetensors") for name in ("ours", "theirs"))
    assert {k: tuple(v.shape) for k, v in ours.items()} == {k: tuple(v.shape) for k, v in theirs.items()}


@pytest.mark.parametrize("weights_file", WEIGHTS_FILES)
def test_a_transformers_albert_for_pretraining_checkpoint_loads_into_ours_with_the_same_outputs(tmp_path, weights_file):
    theirs = perturbed(transformers.AlbertForPreTraining(reference_albert_config()))
    save_reference(theirs, tmp_path, weights_file)

    ours, info = AlbertForPreTraining.from_pretrained(tmp_path, output_loading_info=True)
    assert info == LoadingInfo(missing_keys=[], unexpected_keys=[])
    assert not ours.training  # eval mode after loading, as the reference
    inputs = batch()
    assert_same_outputs(run(ours, inputs), run(theirs, inputs), ("prediction_logits", "sop_logits"))


def test_our_bert_checkpoint_loads_in_transformers_bert_model_with_the_same_outputs(tmp_path):
    ours = perturbed(BertModel(bert_config()))
    ours.save_pretrained(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["config.json", "model.safetensors"]

    theirs, info = transformers.BertModel.from_pretrained(tmp_path, output_loading_info=True)
    assert info == {"missing_keys": [], "unexpected_keys": [], "mismatched_keys": [], "error_msgs": []}
    inputs = batch()
    assert_same_outputs(run(ours, inputs), run(theirs.eval(), inputs), ("last_hidden_state", "pooler_output"))


@pytest.mark.parametrize("weights_file", WEIGHTS_FILES)
def test_a_transformers_bert_checkpoint_loads_into_our_bert_model_with_the_same_outputs(tmp_path, weights_file):
    theirs = perturbed(transformers.BertModel(reference_bert_config()))
    save_reference(theirs, tmp_path, weights_file)

    ours, info = BertModel.from_pretrained(tmp_path, output_loading_info=True)
    assert info == LoadingInfo(missing_keys=[], unexpected_keys=[])
    inputs = batch()
    assert_same_outputs(run(ours, inputs), run(theirs, inputs), ("last_hidden_state", "pooler_output"))


# ---------------------------------------------------------------------------------------------------------------
# Missing, unexpected and mis-shaped keys
# ---------------------------------------------------------------------------------------------------------------

TASK_HEADS = [
    "AlbertForSequenceClassification",
    "AlbertForTokenClassification",
    "AlbertForQuestionAnswering",
    "AlbertForMultipleChoice",
    "AlbertForMaskedLM",
    "AlbertForPreTraining",
]


@pytest.fixture(scope="module")
def base_checkpoint(tmp_path_factory) -> tuple[pathlib.Path, AlbertModel]:
    directory = tmp_path_factory.mktemp("albert_model")
    model = perturbed(AlbertModel(albert_config()))
    model.save_pretrained(directory)
    return directory, model


@pytest.mark.parametrize("head", TASK_HEADS)
def test_a_base_checkpoint_loads_into_a_task_head_with_the_head_reported_as_in_transformers(base_checkpoint, head):
    directory, _ = base_checkpoint
    with pytest.warns(UserWarning) as record:
        model, info = getattr(albert_explained, head).from_pretrained(directory, output_loading_info=True)
    _, reference = getattr(transformers, head).from_pretrained(directory, output_loading_info=True)
    # The reference also lists predictions.decoder.bias, which is the same tensor as predictions.bias (tied);
    # ours names each tensor once.
    tied = set(getattr(model, "tied_weight_keys", ()))
    assert info.missing_keys == sorted(set(reference["missing_keys"]) - tied)
    assert info.unexpected_keys == sorted(reference["unexpected_keys"])

    # One warning names the fresh (missing) weights, each by name: they need training. The base checkpoint's pooler,
    # which the heads that read every token do not have, is listed above but not warned about: nothing is wrong.
    messages = [str(warning.message) for warning in record]
    missing_warning = [m for m in messages if "fresh initialisation" in m]
    assert len(missing_warning) == 1 and all(repr(key) in missing_warning[0] for key in info.missing_keys)
    assert not [m for m in messages if "not used by this model" in m]


def test_a_base_checkpoint_in_a_sequence_classifier_warns_by_name_and_keeps_the_encoder(base_checkpoint):
    directory, base = base_checkpoint
    with pytest.warns(UserWarning, match=r"\['classifier\.bias', 'classifier\.weight'\]"):
        model, info = AlbertForSequenceClassification.from_pretrained(directory, output_loading_info=True)
    assert info == LoadingInfo(missing_keys=["classifier.bias", "classifier.weight"], unexpected_keys=[])

    inputs = batch()
    assert_same_outputs(run(model.albert, inputs), run(base, inputs), ("last_hidden_state", "pooler_output"))
    base_tensors = base.state_dict()
    for key, tensor in model.albert.state_dict().items():
        torch.testing.assert_close(tensor, base_tensors[key], rtol=0, atol=0, msg=key)


@pytest.mark.parametrize("head", ["AlbertModel", "AlbertForMaskedLM", "AlbertForSequenceClassification"])
def test_a_pretraining_checkpoint_lists_the_parts_a_class_lacks_as_unexpected_without_a_warning(tmp_path, head):
    perturbed(AlbertForPreTraining(albert_config())).save_pretrained(tmp_path)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model, info = getattr(albert_explained, head).from_pretrained(tmp_path, output_loading_info=True)
    _, reference = getattr(transformers, head).from_pretrained(tmp_path, output_loading_info=True)
    assert info.unexpected_keys == sorted(reference["unexpected_keys"])
    assert {
        "AlbertModel": "predictions.dense.weight",
        "AlbertForMaskedLM": "sop_classifier.classifier.weight",
        "AlbertForSequenceClassification": "predictions.dense.weight",
    }[head] in info.unexpected_keys
    assert not [w for w in record if "not used by this model" in str(w.message)]


def test_a_key_that_no_albert_class_uses_is_warned_about_by_name(tmp_path):
    perturbed(AlbertForMaskedLM(albert_config())).save_pretrained(tmp_path)
    tensors = load_file(tmp_path / "model.safetensors")
    tensors["albert.encoder.adapter.weight"] = torch.zeros(2)  # from some other model, or a renamed key
    save_file(tensors, tmp_path / "model.safetensors")
    with pytest.warns(UserWarning, match=r"not used by this model: \['albert\.encoder\.adapter\.weight'\]$"):
        _, info = AlbertForMaskedLM.from_pretrained(tmp_path, output_loading_info=True)
    assert info.unexpected_keys == ["albert.encoder.adapter.weight"]


def test_a_checkpoint_that_matches_the_model_loads_without_warnings(tmp_path):
    perturbed(AlbertForPreTraining(albert_config())).save_pretrained(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        AlbertForPreTraining.from_pretrained(tmp_path)


def test_a_config_that_disagrees_with_the_weights_is_a_value_error_naming_the_key(tmp_path):
    perturbed(AlbertForPreTraining(albert_config())).save_pretrained(tmp_path)
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps({**json.loads(config_file.read_text()), "vocab_size": 100}))
    with pytest.raises(
        ValueError,
        match=r"albert\.embeddings\.word_embeddings\.weight: checkpoint \(99, 16\), "
        r"model \(100, 16\)",
    ) as info:
        AlbertForPreTraining.from_pretrained(tmp_path)
    assert "predictions.bias: checkpoint (99,), model (100,)" in str(info.value)


def test_a_single_mis_shaped_tensor_is_a_value_error_naming_its_key(tmp_path):
    perturbed(AlbertModel(albert_config())).save_pretrained(tmp_path)
    tensors = load_file(tmp_path / "model.safetensors")
    tensors["pooler.weight"] = torch.zeros(32, 31)
    save_file(tensors, tmp_path / "model.safetensors")
    with pytest.raises(ValueError, match=r"pooler\.weight: checkpoint \(32, 31\), model \(32, 32\)"):
        AlbertModel.from_pretrained(tmp_path)


# ---------------------------------------------------------------------------------------------------------------
# Partial sharing
# ---------------------------------------------------------------------------------------------------------------

# The sub-modules that each partial strategy ties across depth (model.py, tie_sub_layers).
SHARED_PARTS = {"shared-attention": ("attention.",), "shared-FFN": ("ffn.", "ffn_output.", "full_layer_layer_norm.")}


@pytest.mark.parametrize("sharing", ["shared-attention", "shared-FFN"])
def test_a_partially_shared_model_round_trips_and_loads_in_transformers_as_not_shared(tmp_path, sharing):
    ours = perturbed(AlbertModel(albert_config(sharing=sharing)))
    ours.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert (config["sharing"], config["num_hidden_groups"]) == (sharing, SIZES["num_hidden_layers"])

    # In the file: one group per depth; the shared part is written once per group with equal values.
    tensors = load_file(tmp_path / "model.safetensors")
    prefix = "encoder.albert_layer_groups.0.albert_layers.0."
    group0 = {k: v for k, v in tensors.items() if k.startswith(prefix)}
    for depth in range(1, SIZES["num_hidden_layers"]):
        for key, tensor in group0.items():
            other = tensors[key.replace("groups.0.", f"groups.{depth}.")]
            assert torch.equal(tensor, other) == key[len(prefix) :].startswith(SHARED_PARTS[sharing]), key

    # transformers reads it as an ordinary model with L groups, nothing shared, and computes the same thing.
    theirs, info = transformers.AlbertModel.from_pretrained(tmp_path, output_loading_info=True)
    assert info["missing_keys"] == info["unexpected_keys"] == info["mismatched_keys"] == []
    assert theirs.config.num_hidden_groups == SIZES["num_hidden_layers"]
    inputs = batch()
    assert_same_outputs(run(ours, inputs), run(theirs.eval(), inputs), ("last_hidden_state", "pooler_output"))

    # And ours reads it back shared.
    reloaded = AlbertModel.from_pretrained(tmp_path)
    assert reloaded.config.sharing == sharing
    layers = [group.albert_layers[0] for group in reloaded.encoder.albert_layer_groups]
    shared_module = "attention" if sharing == "shared-attention" else "ffn"
    assert all(getattr(layer, shared_module) is getattr(layers[0], shared_module) for layer in layers)
    assert_same_outputs(run(reloaded, inputs), run(ours, inputs), ("last_hidden_state", "pooler_output"))


@pytest.mark.parametrize("sharing", ["shared-attention", "shared-FFN"])
def test_a_checkpoint_with_different_layers_cannot_load_into_a_shared_config(tmp_path, sharing):
    not_shared = reference_albert_config(num_hidden_groups=SIZES["num_hidden_layers"])
    perturbed(transformers.AlbertModel(not_shared)).save_pretrained(tmp_path)
    part = "(" + "|".join(re.escape(p) for p in SHARED_PARTS[sharing]) + ")"
    with pytest.raises(
        ValueError,
        match=rf"different values for encoder\.albert_layer_groups\.0\.albert_layers\.0\."
        rf"{part}\S* and encoder\.albert_layer_groups\.\d\.albert_layers\.0\.{part}"
        rf".*sharing={sharing!r}",
    ):
        AlbertModel.from_pretrained(tmp_path, sharing=sharing)


# ---------------------------------------------------------------------------------------------------------------
# Where the loaded weights live: in the file's memory map, never written back
# ---------------------------------------------------------------------------------------------------------------


def mapped_file(tensor: torch.Tensor) -> str:
    """What /proc/self/maps names the memory that holds `tensor`'s numbers: a file's path where it is mapped."""
    address = tensor.data_ptr()
    for line in pathlib.Path("/proc/self/maps").read_text().splitlines():
        start, end = (int(bound, 16) for bound in line.split()[0].split("-"))
        if start <= address < end:
            fields = line.split(maxsplit=5)
            return fields[5] if len(fields) == 6 else ""  # "" for anonymous memory
    raise AssertionError(f"address {address:#x} is in no mapping")


@pytest.mark.skipif(not pathlib.Path("/proc/self/maps").exists(), reason="reads Linux's /proc/self/maps")
@pytest.mark.parametrize("weights_file", WEIGHTS_FILES)
def test_loaded_weights_are_the_files_mapped_memory_not_a_copy(tmp_path, weights_file):
    reference = transformers.AlbertForPreTraining(reference_albert_config())
    save_reference(perturbed(reference), tmp_path, weights_file)
    model = AlbertForPreTraining.from_pretrained(tmp_path)
    for name, parameter in model.named_parameters():
        assert mapped_file(parameter) == str((tmp_path / weights_file).resolve()), name  # /proc names real paths
    fresh = AlbertForPreTraining(albert_config())  # a model built here has memory of its own: the heap or anonymous
    assert mapped_file(fresh.albert.pooler.weight) in ("[heap]", "")
    assert_same_outputs(run(model, batch()), run(reference, batch()), ("prediction_logits", "sop_logits"))


def test_training_a_loaded_model_never_writes_to_its_file(tmp_path):
    perturbed(AlbertModel(albert_config())).save_pretrained(tmp_path)
    before, inputs = snapshot(tmp_path), batch()
    expected = run(AlbertModel.from_pretrained(tmp_path), inputs)
    model = AlbertModel.from_pretrained(tmp_path).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
    for _ in range(2):
        model(**inputs).last_hidden_state.square().mean().backward()
        optimizer.step()
        optimizer.zero_grad()
    assert not torch.allclose(run(model.eval(), inputs).last_hidden_state, expected.last_hidden_state)  # it learned
    assert snapshot(tmp_path) == before
    assert_same_outputs(run(AlbertModel.from_pretrained(tmp_path), inputs), expected, ("last_hidden_state",))


def test_saving_into_the_directory_a_model_came_from_leaves_the_loaded_model_as_it_was(tmp_path):
    perturbed(AlbertModel(albert_config()), seed=0).save_pretrained(tmp_path)
    inputs = batch()
    loaded = AlbertModel.from_pretrained(tmp_path)
    before = run(loaded, inputs)
    new = perturbed(AlbertModel(albert_config()), seed=1)
    new.save_pretrained(tmp_path)  # a new file renamed over the mapped one, whose numbers stay where they were
    assert_same_outputs(run(loaded, inputs), before, ("last_hidden_state",))
    assert_same_outputs(run(AlbertModel.from_pretrained(tmp_path), inputs), run(new, inputs), ("last_hidden_state",))
    loaded.save_pretrained(tmp_path)  # and the loaded model saves back over its own source
    assert_same_outputs(run(AlbertModel.from_pretrained(tmp_path), inputs), before, ("last_hidden_state",))


def test_an_mlm_bias_stored_only_under_the_decoders_name_is_loaded(tmp_path):
    """The decoder's bias is `predictions.bias` under a second name; a file that holds it only under the decoder's
    name (and no decoder weight, which is the word embeddings) still gives the model that was saved."""
    saved = perturbed(AlbertForMaskedLM(albert_config()))
    tensors = {
        k: v.clone()
        for k, v in saved.state_dict().items()
        if k not in ("predictions.bias", "predictions.decoder.weight")
    }
    save_file(tensors, tmp_path / "model.safetensors")
    saved.config.to_json_file(tmp_path / "config.json")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and it is not reported missing
        loaded, info = AlbertForMaskedLM.from_pretrained(tmp_path, output_loading_info=True)
    assert info.missing_keys == [] and loaded.predictions.decoder.bias is loaded.predictions.bias
    assert_same_outputs(run(loaded, batch()), run(saved, batch()), ("logits",))


def test_tensors_that_share_memory_in_a_pickle_load_as_parameters_of_their_own(tmp_path):
    """A torch.save'd state dict holds a shared layer's tensors once under every depth's key, and may hold expanded
    (stride 0) or transposed tensors: each must become a parameter of its own, contiguous, that an optimizer can
    write."""
    shared = perturbed(AlbertModel(albert_config(sharing="shared-attention", num_hidden_groups=3)))
    state_dict = shared.state_dict()
    state_dict["embeddings.LayerNorm.bias"] = torch.full((1,), 0.5).expand(E)  # one number, stride 0
    mapping = "encoder.embedding_hidden_mapping_in.weight"
    state_dict[mapping] = state_dict[mapping].t().contiguous().t()  # the same numbers, column by column
    torch.save(state_dict, tmp_path / "pytorch_model.bin")
    shared.config.to_json_file(tmp_path / "config.json")
    model = AlbertModel.from_pretrained(tmp_path, sharing="not-shared").train()
    parameters = list(model.parameters())
    assert all(parameter.is_contiguous() for parameter in parameters)
    assert len({parameter.data_ptr() for parameter in parameters}) == len(parameters)
    groups = model.encoder.albert_layer_groups
    first, second = (group.albert_layers[0].attention.query.weight for group in groups[:2])
    assert torch.equal(first, second)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
    model(**batch()).last_hidden_state.square().mean().backward()
    optimizer.step()
    assert not torch.equal(first, second)  # depth 0 and depth 1 get different gradients, and now differ
    assert model.embeddings.LayerNorm.bias.unique().numel() > 1  # one number each, written one by one


def test_a_half_precision_checkpoint_loads_as_float32_copies(tmp_path):
    half = perturbed(AlbertModel(albert_config())).half()
    save_file({k: v.contiguous() for k, v in half.state_dict().items()}, tmp_path / "model.safetensors")
    albert_config().to_json_file(tmp_path / "config.json")
    model = AlbertModel.from_pretrained(tmp_path)
    for (name, ours), theirs in zip(model.state_dict().items(), half.state_dict().values(), strict=True):
        assert ours.dtype == torch.float32 and torch.equal(ours, theirs.float()), name


# ---------------------------------------------------------------------------------------------------------------
# Atomic writing
# ---------------------------------------------------------------------------------------------------------------


def test_a_full_disk_while_writing_the_weights_leaves_the_existing_checkpoint_intact(
    tmp_path, disk_fills_while_writing
):
    old = perturbed(AlbertModel(albert_config()), seed=0)
    old.save_pretrained(tmp_path)
    before = snapshot(tmp_path)

    disk_fills_while_writing("model.safetensors")
    with pytest.raises(
        OSError,
        match="no space left on device while writing .*model.safetensors; the existing "
        "model.safetensors is unchanged. Free some space",
    ):
        perturbed(AlbertModel(albert_config(num_hidden_layers=2)), seed=1).save_pretrained(tmp_path)

    assert snapshot(tmp_path) == before  # same names (no temporary file left) and the same bytes
    inputs = batch()
    assert_same_outputs(run(AlbertModel.from_pretrained(tmp_path), inputs), run(old, inputs), ("last_hidden_state",))


def test_a_full_disk_while_writing_config_json_leaves_the_existing_checkpoint_intact(
    tmp_path, disk_fills_while_writing
):
    """The checkpoint is the pair of files: new weights beside the old config.json would be a broken checkpoint
    (here the layer count differs), so a failure on either file must leave both as they were."""
    perturbed(AlbertModel(albert_config()), seed=0).save_pretrained(tmp_path)
    before = snapshot(tmp_path)

    disk_fills_while_writing("config.json")
    with pytest.raises(OSError, match="no space left on device while writing .*config.json"):
        perturbed(AlbertModel(albert_config(num_hidden_layers=2)), seed=1).save_pretrained(tmp_path)

    assert sorted(snapshot(tmp_path)) == sorted(before), "a temporary file was left behind"
    changed = [name for name in before if snapshot(tmp_path)[name] != before[name]]
    assert changed == [], f"{changed} changed although saving failed"


def test_a_failed_first_save_leaves_no_files_behind(tmp_path, disk_fills_while_writing):
    disk_fills_while_writing("model.safetensors")
    with pytest.raises(OSError, match="no model.safetensors was written"):
        AlbertModel(albert_config()).save_pretrained(tmp_path / "new")
    assert list((tmp_path / "new").iterdir()) == []


def test_saving_over_an_existing_checkpoint_replaces_it(tmp_path):
    perturbed(AlbertModel(albert_config()), seed=0).save_pretrained(tmp_path)
    new = perturbed(AlbertModel(albert_config()), seed=1)
    new.save_pretrained(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["config.json", "model.safetensors"]
    inputs = batch()
    assert_same_outputs(run(AlbertModel.from_pretrained(tmp_path), inputs), run(new, inputs), ("last_hidden_state",))


# ---------------------------------------------------------------------------------------------------------------
# Damaged and unsafe files
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture
def config_only(tmp_path) -> pathlib.Path:
    """A directory with a valid config.json and no weights yet."""
    albert_config().to_json_file(tmp_path / "config.json")
    return tmp_path


@pytest.mark.parametrize("keep", ["8 bytes", "half", "all but the last byte"])
def test_a_truncated_model_safetensors_is_a_value_error_naming_the_file(tmp_path, keep):
    perturbed(AlbertModel(albert_config())).save_pretrained(tmp_path)
    path = tmp_path / "model.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[: {"8 bytes": 8, "half": len(data) // 2, "all but the last byte": len(data) - 1}[keep]])
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))} is not a readable safetensors file"):
        AlbertModel.from_pretrained(tmp_path)


def test_a_model_safetensors_of_garbage_is_a_value_error_naming_the_file(config_only):
    path = config_only / "model.safetensors"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(ValueError, match=re.escape(str(path))):
        AlbertModel.from_pretrained(config_only)


def test_a_garbage_pytorch_model_bin_is_a_value_error_naming_the_file(config_only):
    path = config_only / "pytorch_model.bin"
    path.write_bytes(b"this is not a checkpoint" + os.urandom(1000))
    with pytest.raises(ValueError, match=re.escape(str(path))):
        AlbertModel.from_pretrained(config_only)


def test_a_truncated_pytorch_model_bin_is_a_value_error_naming_the_file(config_only):
    path = config_only / "pytorch_model.bin"
    torch.save(perturbed(AlbertModel(albert_config())).state_dict(), path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError, match=re.escape(str(path))):
        AlbertModel.from_pretrained(config_only)


class TouchOnUnpickle:
    """Unpickling this object calls os.makedirs(marker): any code could run there instead."""

    def __init__(self, marker: pathlib.Path):
        self.marker = str(marker)

    def __reduce__(self):
        return os.makedirs, (self.marker,)


def write_unsafe_pickle(path: pathlib.Path, marker: pathlib.Path, how: str) -> None:
    payload = {"embeddings.word_embeddings.weight": torch.zeros(99, 16), "pooler.bias": TouchOnUnpickle(marker)}
    if how == "torch.save":
        torch.save(payload, path)
    elif how == "torch.save legacy format":
        torch.save(payload, path, _use_new_zipfile_serialization=False)
    else:
        path.write_bytes(pickle.dumps(payload))


UNSAFE_FORMATS = ["torch.save", "torch.save legacy format", "plain pickle"]


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")  # torch notes the plain pickle's protocol 4
@pytest.mark.parametrize("how", UNSAFE_FORMATS)
def test_a_pickle_that_would_run_code_is_refused_without_running_it(config_only, how):
    marker = config_only / "code-ran"
    write_unsafe_pickle(config_only / "pytorch_model.bin", marker, how)
    with pytest.raises(ValueError, match=re.escape(str(config_only / "pytorch_model.bin"))):
        AlbertModel.from_pretrained(config_only)
    assert not marker.exists()


def test_the_unsafe_pickle_really_runs_code_when_unpickled_without_restriction(tmp_path):
    """The control for the test above: an unrestricted torch.load of the same file does create the marker."""
    marker = tmp_path / "code-ran"
    write_unsafe_pickle(tmp_path / "pytorch_model.bin", marker, "torch.save")
    torch.load(tmp_path / "pytorch_model.bin", weights_only=False)
    assert marker.exists()


# ---------------------------------------------------------------------------------------------------------------
# Names that are not local directories
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture
def closed_hub(monkeypatch) -> None:
    """Point huggingface_hub at a closed local port, so that nothing here can reach a real host."""
    monkeypatch.setenv("HF_ENDPOINT", CLOSED_PORT)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)


def test_a_hub_id_offline_fails_within_seconds_and_says_how_to_load_a_local_directory(closed_hub):
    start = time.monotonic()
    with pytest.raises(OSError, match="albert/albert-base-v2") as info:
        AlbertModel.from_pretrained("albert/albert-base-v2")
    assert time.monotonic() - start < 10
    assert "local" in str(info.value) and "directory" in str(info.value)


def test_a_hub_id_with_hf_hub_offline_and_an_empty_cache_fails_within_seconds(closed_hub, monkeypatch, tmp_path):
    huggingface_hub = pytest.importorskip("huggingface_hub")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))  # nothing cached
    start = time.monotonic()
    with pytest.raises(OSError, match="local copy") as info:
        AlbertModel.from_pretrained("albert/albert-base-v2")
    assert time.monotonic() - start < 10
    assert "directory" in str(info.value)


HUB_ID = "albert/albert-base-v2"
COMMIT = "0123456789abcdef0123456789abcdef01234567"  # a snapshot's name: the 40 hex digits of a commit


def put_in_hub_cache(cache: pathlib.Path, repo_id: str, directory: pathlib.Path, names: list[str]) -> pathlib.Path:
    """Lay out `names` from `directory` in `cache` as huggingface_hub's hf_hub_download does (file_download.py):

        models--{owner}--{name}/blobs/{etag}                the bytes, named by their etag: sha256 for LFS files
                                                            (weights, spiece.model), git's blob sha1 for small ones
        models--{owner}--{name}/refs/main                   the commit hash that main points at (no newline)
        models--{owner}--{name}/snapshots/{commit}/{file}   relative symlinks to ../../blobs/{etag}

    Returns the snapshot directory."""
    storage = cache / ("models--" + repo_id.replace("/", "--"))
    (storage / "blobs").mkdir(parents=True)
    snapshot = storage / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    for name in names:
        data = (directory / name).read_bytes()
        lfs = name != "config.json"
        etag = (hashlib.sha256(data) if lfs else hashlib.sha1(b"blob %d\0" % len(data) + data)).hexdigest()
        (storage / "blobs" / etag).write_bytes(data)
        (snapshot / name).symlink_to(pathlib.Path("..", "..", "blobs", etag))
    (storage / "refs").mkdir()
    (storage / "refs" / "main").write_text(COMMIT)
    return snapshot


@pytest.fixture
def hub_cache(closed_hub, monkeypatch, tmp_path, plays_tokenizer) -> tuple[pathlib.Path, pathlib.Path]:
    """A tiny AlbertForMaskedLM and a tokenizer of its own, saved to a directory and cached under HUB_ID as a
    download leaves them, with HF_HUB_OFFLINE=1 and huggingface_hub's cache pointed there (the hub itself at a closed
    port). Returns (the saved directory, the snapshot directory)."""
    huggingface_hub = pytest.importorskip("huggingface_hub")
    directory = tmp_path / "saved"
    config = albert_config(vocab_size=plays_tokenizer.vocab_size, max_position_embeddings=64)
    perturbed(AlbertForMaskedLM(config)).save_pretrained(directory)
    plays_tokenizer.save_pretrained(directory)
    # Only what download_from_hub fetches: the tokenizer's JSON files are not in the cache.
    snapshot = put_in_hub_cache(
        tmp_path / "cache", HUB_ID, directory, ["config.json", "model.safetensors", "spiece.model"]
    )
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "cache"))
    # The layout is huggingface_hub's own: its scan finds the repository whole, and it resolves a file offline.
    scan = huggingface_hub.scan_cache_dir(tmp_path / "cache")
    assert scan.warnings == [] and [repo.repo_id for repo in scan.repos] == [HUB_ID]
    assert huggingface_hub.hf_hub_download(HUB_ID, "spiece.model", local_files_only=True) == str(
        snapshot / "spiece.model"
    )
    return directory, snapshot


def test_a_cached_hub_id_loads_offline_with_its_tokenizer_as_the_directory_does(hub_cache):
    directory, snapshot = hub_cache
    start = time.monotonic()
    model, tokenizer, why_not = load_if_available(HUB_ID)  # what the notebooks' optional cells call
    assert why_not is None and time.monotonic() - start < 10
    assert isinstance(model, AlbertForMaskedLM) and not model.training
    assert pathlib.Path(tokenizer.vocab_file).parent == snapshot  # read from the cache, not from elsewhere

    local = AlbertForMaskedLM.from_pretrained(directory)
    local_tokenizer = AlbertTokenizer.from_pretrained(directory)
    text = "To be, or not to [MASK]: that is the question."
    encoding, local_encoding = tokenizer(text, return_tensors="pt"), local_tokenizer(text, return_tensors="pt")
    assert encoding["input_ids"].tolist() == local_encoding["input_ids"].tolist()
    assert tokenizer.mask_token_id in encoding["input_ids"][0].tolist()
    assert_same_outputs(run(model, encoding), run(local, local_encoding), ("logits",))


def test_a_cached_hub_id_gives_the_model_class_asked_for_with_the_usual_warnings(hub_cache):
    with pytest.warns(UserWarning, match=r"fresh initialisation .*\['pooler\.bias', 'pooler\.weight'\]"):
        model, _, why_not = load_if_available(HUB_ID, AlbertModel)
    assert why_not is None and type(model) is AlbertModel


def test_load_if_available_offline_returns_why_on_one_line_within_seconds(closed_hub):
    start = time.monotonic()
    model, tokenizer, why_not = load_if_available(HUB_ID)
    assert time.monotonic() - start < 10
    assert model is None and tokenizer is None
    assert why_not.startswith("OSError: cannot reach") and HUB_ID in why_not
    assert "\n" not in why_not and len(why_not) <= 200 and "local copy" not in why_not


def test_load_if_available_with_hf_hub_offline_and_an_empty_cache_returns_why(closed_hub, monkeypatch, tmp_path):
    huggingface_hub = pytest.importorskip("huggingface_hub")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    model, _, why_not = load_if_available(HUB_ID)
    assert model is None and why_not.startswith("OSError: could not get") and len(why_not) <= 200


def test_load_if_available_raises_for_a_checkpoint_that_is_there_but_broken(tmp_path):
    albert_config().to_json_file(tmp_path / "config.json")
    (tmp_path / "model.safetensors").write_bytes(os.urandom(64))
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        load_if_available(tmp_path)


@pytest.mark.parametrize("name", ["{tmp}/no-such-checkpoint", "./no/such/checkpoint", "not/a/hub/id", "a name?"])
def test_a_name_that_is_neither_a_directory_nor_a_hub_id_is_file_not_found(closed_hub, tmp_path, name):
    with pytest.raises(FileNotFoundError, match="no checkpoint directory"):
        AlbertModel.from_pretrained(name.format(tmp=tmp_path))


def test_a_file_instead_of_a_directory_is_refused(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))} is a file; from_pretrained expects a directory"):
        AlbertModel.from_pretrained(path)


def test_a_directory_without_weights_names_the_files_it_expected(config_only):
    with pytest.raises(FileNotFoundError, match="expected model.safetensors or pytorch_model.bin"):
        AlbertModel.from_pretrained(config_only)


def test_a_directory_without_config_json_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"config file not found: .*config\.json"):
        AlbertModel.from_pretrained(tmp_path)
