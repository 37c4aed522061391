"""Fine-tuning runs (finetuning/run.py and `albert-explained finetune`), on a tiny ALBERT with the bundled tokenizer:
each head's training step is transformers' (loss, gradients, update), a resumed run repeats an uninterrupted one,
the run directory is a model that transformers and its pipelines read as we do, and bad input stops before any
work."""

from __future__ import annotations

import json
import re
import shutil
import time

import pytest
import torch
import transformers
from torch import nn
from torch.testing import assert_close

from albert_explained.cli import main
from albert_explained.finetuning import TASK_NAMES, get_task, who_says
from albert_explained.finetuning.run import FinetuningConfig, build_model, epoch_batches, finetune, resolve_model_dir
from albert_explained.model import AlbertForPreTraining
from albert_explained.tokenizer import AlbertTokenizer
from albert_explained.training.checkpoints import CHECKPOINT_NAME
from albert_explained.training.loop import ModelLoss, TrainingConfig, TrainingLoop, lock_output_dir, start_session
from albert_explained.training.run_directory import RunDirectoryInUse
from albert_explained.training.optim import NO_DECAY_NAMES

SIZES = dict(train_size=16, validation_size=8)


@pytest.fixture(scope="module")
def task_data(tiny_model_dir):
    """Each task's examples at the tests' sizes, made once."""
    tokenizer = AlbertTokenizer.from_pretrained(tiny_model_dir)
    made = {}

    def data(name):
        if name not in made:
            made[name] = get_task(name).make_examples(tokenizer, max_seq_length=64, seed=0, **SIZES)
        return made[name]

    return data


def tiny_run(tiny_model_dir, output_dir, **overrides) -> FinetuningConfig:
    settings = dict(
        model=str(tiny_model_dir),
        output_dir=str(output_dir),
        steps=6,
        batch_size=4,
        learning_rate=1e-3,
        eval_every=2,
        checkpoint_every=2,
        eval_batch_size=8,
        device="cpu",
        progress=False,
        **SIZES,
    )
    return FinetuningConfig(**{**settings, **overrides})


def step_records(history):
    return [record for record in history if "loss" in record]


@pytest.mark.parametrize("task_name", TASK_NAMES)
def test_one_training_step_of_each_head_is_transformers_loss_gradients_and_update(
    task_name, tiny_model_dir, task_data, tmp_path
):
    task = get_task(task_name)
    chunk = task_data(task_name).train[:4]
    batch = task.collate(chunk, 0)
    ours = build_model(task, tiny_model_dir, from_scratch=False, seed=0)
    ours.save_pretrained(tmp_path)  # the same weights, fresh head included, for the reference
    reference = getattr(transformers, task.model_class.__name__).from_pretrained(tmp_path)
    ours.train()
    reference.train()

    # Loss and gradients: our training objective against the reference's forward and backward.
    loss = ModelLoss(ours)(**batch)["loss"]
    loss.backward()
    reference_loss = reference(**batch).loss
    reference_loss.backward()
    assert_close(loss, reference_loss)
    reference_parameters = dict(reference.named_parameters())
    trained = [(name, p) for name, p in ours.named_parameters() if p.requires_grad]
    assert any(name.startswith(("classifier.", "qa_outputs.")) for name, _ in trained)  # the fresh head trains too
    for name, parameter in trained:
        assert_close(parameter.grad, reference_parameters[name].grad, rtol=1e-4, atol=1e-6, msg=name)

    # One step of our loop (AdamW, clipping at 1.0, no warm-up) against torch's AdamW on the reference, written out.
    ours.zero_grad(set_to_none=True)
    config = TrainingConfig(
        learning_rate=1e-3,
        steps=1,
        warmup_steps=0,
        batch_size=4,
        eval_every=1,
        checkpoint_every=1,
        device="cpu",
        progress=False,
    )
    loop = TrainingLoop(ours, ModelLoss(ours), config, start_session(config), tmp_path)
    loop.run(lambda epoch: [chunk], lambda c: task.collate(c, 0), evaluate=dict)
    decay = [
        p
        for name, p in reference.named_parameters()
        if not any(n in name for n in NO_DECAY_NAMES) and dict(ours.named_parameters())[name].requires_grad
    ]
    no_decay = [p for name, p in reference.named_parameters() if any(n in name for n in NO_DECAY_NAMES)]
    optimizer = torch.optim.AdamW(
        [dict(params=decay, weight_decay=0.01), dict(params=no_decay, weight_decay=0.0)], lr=1e-3, eps=1e-6
    )
    nn.utils.clip_grad_norm_(reference.parameters(), 1.0)
    optimizer.step()
    assert step_records(loop.state.history)[0]["loss"] == pytest.approx(reference_loss.item(), rel=1e-5)
    for name, parameter in trained:
        assert_close(parameter.detach(), reference_parameters[name].detach(), rtol=1e-4, atol=1e-6, msg=name)


def test_a_run_stopped_and_resumed_has_the_losses_and_weights_of_an_uninterrupted_one(tiny_model_dir, tmp_path):
    # 16 examples in batches of 4: steps 5 and 6 are the second epoch's, so the resume crosses an epoch.
    whole = finetune(tiny_run(tiny_model_dir, tmp_path / "whole", task="question-answering"))
    first = finetune(tiny_run(tiny_model_dir, tmp_path / "split", task="question-answering", stop_after=3))
    assert first.step == 3 and first.metrics == {} and not (tmp_path / "split" / "metrics.json").exists()
    second = finetune(tiny_run(tiny_model_dir, tmp_path / "split", task="question-answering", resume=True))
    assert [r["epoch"] for r in step_records(whole.history)] == [0, 0, 0, 0, 1, 1]
    assert step_records(second.history) == step_records(whole.history)  # losses, learning rates, gradient norms
    assert second.metrics == whole.metrics
    for (name, a), (_, b) in zip(whole.model.state_dict().items(), second.model.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    with pytest.raises(ValueError, match="has finished"):
        finetune(tiny_run(tiny_model_dir, tmp_path / "split", task="question-answering", resume=True))


def test_each_epoch_is_the_training_examples_shuffled_by_seed_and_epoch_in_full_batches():
    examples = list(range(10))
    first = epoch_batches(examples, 4, seed=0, epoch=0)
    assert [len(b) for b in first] == [4, 4]  # the two left over are dropped
    assert first == epoch_batches(examples, 4, seed=0, epoch=0)  # a pure function: what resume relies on
    assert first != epoch_batches(examples, 4, seed=0, epoch=1) and first != epoch_batches(examples, 4, 1, 0)


@pytest.mark.parametrize("task_name", TASK_NAMES)
def test_the_run_directory_loads_in_transformers_with_our_logits_and_its_pipelines_agree(
    task_name, tiny_model_dir, tmp_path
):
    out = tmp_path / "run"
    result = finetune(tiny_run(tiny_model_dir, out, task=task_name, steps=2))
    task, validation = result.task, result.data.validation
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"] == task_name and metrics["metric"] == task.metric
    assert metrics["score"] == task.evaluate(result.model, validation)[task.metric]
    assert metrics["baseline"] == task.baseline(result.data.train, validation)
    assert metrics["baseline_name"] == task.baseline_name
    assert (metrics["steps"], metrics["device"], metrics["precision"], metrics["from_scratch"]) == (
        2,
        "cpu",
        "fp32",
        False,
    )
    assert f"| {task.metric} | {metrics['score']:.1%} | {metrics['baseline']:.1%}" in (out / "README.md").read_text()
    assert [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()] == result.history
    assert (out / CHECKPOINT_NAME).is_file()

    ours = task.model_class.from_pretrained(out)
    reference = getattr(transformers, task.model_class.__name__).from_pretrained(out).eval()
    batch = {k: v for k, v in task.collate(validation, 0).items() if k in validation[0].inputs}
    with torch.no_grad():
        for field in ("start_logits", "end_logits") if task_name == "question-answering" else ("logits",):
            assert_close(getattr(ours(**batch), field), getattr(reference(**batch), field), rtol=1e-5, atol=1e-6)
    if task.id2label is not None:
        assert reference.config.id2label == task.id2label

    if task_name == "sequence-classification":
        pipe = transformers.pipeline("text-classification", model=str(out), device="cpu")
        predicted = [p["label"] for p in pipe([e.example.text for e in validation])]
        assert predicted == task.predict(ours, validation)
    elif task_name == "token-classification":
        pipe = transformers.pipeline("token-classification", model=str(out), device="cpu")
        for encoded in validation:
            logits = ours(**{k: torch.tensor([v]) for k, v in encoded.inputs.items()}).logits[0]  # (T, 3)
            tags = [task.id2label[i] for i in logits.argmax(-1).tolist()]
            ours_tagged = {(i, tag) for i, tag in enumerate(tags) if tag != "O" and encoded.word_ids[i] is not None}
            assert {(p["index"], p["entity"]) for p in pipe(encoded.example.text)} == ours_tagged
    elif task_name == "question-answering":
        # With the slow (sentencepiece) tokenizer, as ours: transformers' AlbertTokenizerFast, the pipeline's default,
        # splits the questions' quote marks differently ('"', '▁how' against ours '"', 'how'), so it would run on
        # other pieces. The slow pipeline answers in whole words of the context (split at whitespace): the words
        # that our span of pieces touches.
        pipe = transformers.pipeline(
            "question-answering",
            model=str(out),
            device="cpu",
            tokenizer=transformers.AlbertTokenizer.from_pretrained(out),
        )
        with torch.no_grad():
            output = ours(**batch)
        for row, encoded in enumerate(validation):
            first, last = who_says.context_pieces(encoded.inputs["token_type_ids"])
            start, end = who_says.best_span(output.start_logits[row], output.end_logits[row], first, last)
            start_char, end_char = encoded.offset_mapping[start][0], encoded.offset_mapping[end][1]
            context = encoded.example.context
            words = [
                word for word in re.finditer(r"\S+", context) if word.end() > start_char and word.start() < end_char
            ]
            answer = pipe(question=encoded.example.question, context=context, max_answer_len=who_says.MAX_ANSWER_LENGTH)
            assert answer["answer"] == " ".join(word.group() for word in words), encoded.example
            assert answer["start"] == words[0].start()


def test_from_scratch_trains_the_same_architecture_from_random_weights(tiny_model_dir, tmp_path):
    task = get_task("multiple-choice")
    pretrained = build_model(task, tiny_model_dir, from_scratch=False, seed=0)
    scratch = build_model(task, tiny_model_dir, from_scratch=True, seed=0)
    assert scratch.config == pretrained.config
    words = "albert.embeddings.word_embeddings.weight"
    assert not torch.equal(scratch.state_dict()[words], pretrained.state_dict()[words])
    saved = AlbertForPreTraining.from_pretrained(tiny_model_dir).state_dict()[words]
    assert torch.equal(pretrained.state_dict()[words], saved)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            dict(task="summarisation"),
            "task must be one of sequence-classification, token-classification, "
            "question-answering, multiple-choice, got 'summarisation'",
        ),
        (dict(steps=0), "steps must be a positive integer, got 0"),
        (dict(model="MISSING"), "no checkpoint directory at"),
        (dict(max_seq_length=65), r"max_seq_length \(65\) must be at most the model's max_position_embeddings \(64\)"),
    ],
)
def test_bad_input_is_an_error_naming_the_argument_before_any_work(overrides, message, tiny_model_dir, tmp_path):
    if overrides.get("model") == "MISSING":
        overrides = dict(model=str(tmp_path / "no-such-model"))
    with pytest.raises((ValueError, OSError), match=message):
        finetune(tiny_run(tiny_model_dir, tmp_path / "run", **overrides))
    assert not (tmp_path / "run").exists()


def test_a_second_run_on_a_directory_in_use_is_refused_and_told_who_holds_it(tiny_model_dir, tmp_path):
    out = tmp_path / "run"
    with lock_output_dir(out, holder="albert-explained finetune genre (the first run)"):
        with pytest.raises(
            RunDirectoryInUse,
            match=r"run is in use by another run: process \d+ on .*: "
            r"albert-explained finetune genre \(the first run\)",
        ):
            finetune(tiny_run(tiny_model_dir, out))
        assert [p.name for p in out.iterdir()] == [".lock"]  # the refused run wrote nothing


def test_ctrl_c_on_the_first_step_of_a_new_run_removes_what_it_wrote_and_a_later_step_keeps_it(
    tiny_model_dir, tmp_path, monkeypatch
):
    real_forward, calls = ModelLoss.forward, []

    def interrupted_at(step):
        def forward(self, **batch):
            calls.append(1)
            if len(calls) == step:
                raise KeyboardInterrupt
            return real_forward(self, **batch)

        return forward

    out = tmp_path / "run"
    monkeypatch.setattr(ModelLoss, "forward", interrupted_at(1))
    with pytest.raises(
        KeyboardInterrupt,
        match=f"before the first training step; what the run had written in {out} "
        f"is removed, so the same command starts it again",
    ):
        finetune(tiny_run(tiny_model_dir, out))
    assert not out.exists()
    calls.clear()
    monkeypatch.setattr(ModelLoss, "forward", interrupted_at(4))  # in step 4: the checkpoint of step 2 is kept
    with pytest.raises(KeyboardInterrupt):
        finetune(tiny_run(tiny_model_dir, out))
    assert torch.load(out / CHECKPOINT_NAME, weights_only=True)["state"]["step"] == 2
    monkeypatch.setattr(ModelLoss, "forward", real_forward)
    assert finetune(tiny_run(tiny_model_dir, out, resume=True)).step == 6


def test_a_checkpoint_without_the_encoders_weights_is_refused_not_fine_tuned_as_pretrained(tiny_model_dir, tmp_path):
    from safetensors.torch import load_file, save_file

    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model_dir)
    weights = load_file(model_dir / "model.safetensors")
    dropped = next(key for key in weights if "attention.query.weight" in key)
    save_file({key: tensor for key, tensor in weights.items() if key != dropped}, model_dir / "model.safetensors")
    with pytest.raises(
        ValueError,
        match=rf"model {model_dir} lacks 1 of the encoder's weights \({dropped} first\): "
        rf"it is not a pretrained ALBERT",
    ):
        finetune(tiny_run(model_dir, tmp_path / "run"))
    assert not (tmp_path / "run").exists()
    assert finetune(tiny_run(model_dir, tmp_path / "run", from_scratch=True, steps=2)).step == 2  # on purpose: fine


def test_a_resume_that_names_the_bundled_model_it_started_from_by_default_is_accepted(tmp_path):
    from albert_explained.bundled import bundled_model_dir

    out = tmp_path / "run"
    settings = dict(
        output_dir=str(out),
        steps=4,
        batch_size=4,
        eval_every=2,
        checkpoint_every=2,
        device="cpu",
        progress=False,
        train_size=16,
        validation_size=8,
        task="multiple-choice",
    )
    assert finetune(FinetuningConfig(**settings, stop_after=2)).step == 2  # model=None: the bundled model
    resumed = finetune(FinetuningConfig(**settings, model=str(bundled_model_dir()), resume=True))
    assert resumed.step == 4


def test_a_model_directory_without_a_tokenizer_is_named(tiny_model_dir, tmp_path):
    (tmp_path / "config.json").write_text((tiny_model_dir / "config.json").read_text())
    with pytest.raises(ValueError, match=f"model directory {tmp_path} has no spiece.model"):
        finetune(tiny_run(tmp_path, tmp_path / "run"))


def test_a_hub_id_fails_fast_and_names_the_argument_when_the_hub_cannot_be_reached(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there: as offline as it gets
    started = time.time()
    with pytest.raises(
        OSError,
        match="model 'albert/albert-base-v2' is not a local directory and could not be "
        "downloaded as a hub id: cannot reach http://127.0.0.1:9",
    ):
        resolve_model_dir("albert/albert-base-v2")
    assert time.time() - started < 10


def test_a_new_run_never_overwrites_an_earlier_one(tiny_model_dir, tmp_path):
    (tmp_path / "metrics.json").write_text('{"score": 0.9}')
    with pytest.raises(FileExistsError, match="already holds .*metrics.json; pass --resume"):
        finetune(tiny_run(tiny_model_dir, tmp_path, task="multiple-choice"))
    assert (tmp_path / "metrics.json").read_text() == '{"score": 0.9}'


def test_the_command_fine_tunes_and_writes_the_model_directory(tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "next-line"
    code = main(
        [
            "finetune",
            "multiple-choice",
            "--output-dir",
            str(out),
            "--model",
            str(tiny_model_dir),
            "--steps",
            "2",
            "--batch-size",
            "4",
            "--train-size",
            "16",
            "--validation-size",
            "8",
            "--device",
            "cpu",
            "--precision",
            "fp32",
            "--no-progress",
        ]
    )
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    printed = capsys.readouterr().out
    assert f"multiple-choice after 2 steps: validation accuracy {metrics['score']:.1%}" in printed
    assert metrics["training_config"]["command"].startswith("albert-explained finetune multiple-choice")
    assert transformers.AlbertForMultipleChoice.from_pretrained(out).config.num_hidden_layers == 2

    assert main(["finetune", "multiple-choice", "--output-dir", str(out), "--model", str(tiny_model_dir)]) == 2
    assert "already holds" in capsys.readouterr().err
    assert main(["finetune", "multiple-choice", "--output-dir", str(tmp_path / "x"), "--steps", "0"]) == 2
    assert "steps must be a positive integer, got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["finetune", "summarisation", "--output-dir", str(tmp_path / "y")])
    assert "invalid choice: 'summarisation'" in capsys.readouterr().err
