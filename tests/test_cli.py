"""The command line: every command has --help, the cheap ones run, and mistakes give one clear line."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest

import albert_explained.pretraining
from albert_explained.bundled import BUNDLED_MODEL_DIR
from albert_explained.cli import main

HAS_BUNDLED = (BUNDLED_MODEL_DIR / "model.safetensors").is_file()


@pytest.mark.parametrize("command", [[], ["fill-mask"], ["tokenize"], ["params"], ["pretrain"]])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(command + ["--help"])
    assert exit_info.value.code == 0
    assert "usage: albert-explained" in capsys.readouterr().out


def test_params_prints_the_papers_table(capsys):
    assert main(["params"]) == 0
    out = capsys.readouterr().out
    assert "paper" in out and "ALBERT" in out.upper() and "BERT" in out


def test_pretrain_refuses_a_missing_corpus_with_one_line(tmp_path, capsys):
    assert main(["pretrain", "--output-dir", str(tmp_path / "run"), "--corpus", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("albert-explained pretrain: error: corpus path does not exist")


def test_pretrain_offers_the_papers_sharing_strategies_only(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["pretrain", "--output-dir", str(tmp_path / "run"), "--sharing", "half-shared"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--sharing" in err and "'all-shared', 'shared-attention', 'shared-FFN', 'not-shared'" in err


def test_pretrain_trains_on_sop_or_nsp_and_nothing_else(tmp_path, capsys, monkeypatch):
    with pytest.raises(SystemExit) as exit_info:
        main(["pretrain", "--output-dir", str(tmp_path / "run"), "--objective", "mlm"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--objective" in err and "'sop', 'nsp'" in err
    configs = []  # what pretrain was called with, without training
    monkeypatch.setattr(
        albert_explained.pretraining,
        "pretrain",
        lambda config: configs.append(config) or SimpleNamespace(final_metrics={}, step=config.steps),
    )
    assert main(["pretrain", "--output-dir", str(tmp_path / "run"), "--objective", "nsp"]) == 0
    assert main(["pretrain", "--output-dir", str(tmp_path / "run")]) == 0
    assert [config.objective for config in configs] == ["nsp", "sop"]


def test_pretrain_refuses_to_resume_nothing(tmp_path, capsys):
    assert main(["pretrain", "--output-dir", str(tmp_path / "run"), "--resume"]) == 2
    assert "cannot resume: no checkpoint" in capsys.readouterr().err


@pytest.mark.skipif(not HAS_BUNDLED, reason="the bundled model has not been built")
def test_fill_mask_and_tokenize_use_the_bundled_model(capsys):
    assert main(["fill-mask", "To be, or not to [MASK]: that is the question.", "--top-k", "3"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    assert main(["tokenize", "Friends, Romans, countrymen"]) == 0
    out = capsys.readouterr().out
    assert "▁friends" in out and "[CLS]" in out
    assert main(["fill-mask", "no mask here"]) == 2
    assert "no [MASK] to fill in" in capsys.readouterr().err


@pytest.mark.skipif(not HAS_BUNDLED, reason="the bundled model has not been built")
def test_fill_mask_from_a_model_directory_gives_the_bundled_answers_without_warnings(capsys, recwarn):
    text = "My kingdom for a [MASK]!"
    assert main(["fill-mask", text]) == 0
    bundled = capsys.readouterr().out
    # A pretraining checkpoint also holds the pooler and the SOP head, which fill-mask does not use: that is expected,
    # not something to warn a user about.
    assert main(["fill-mask", text, "--model", str(BUNDLED_MODEL_DIR)]) == 0
    assert capsys.readouterr().out == bundled
    assert not [w for w in recwarn if "not used by this model" in str(w.message)]


def test_python_dash_m_runs_the_same_entry_point():
    done = subprocess.run(
        [sys.executable, "-m", "albert_explained", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "fill-mask" in done.stdout


@pytest.mark.parametrize("output", ["head", "head.txt", "."])
def test_attention_refuses_an_output_it_cannot_write_before_running_the_model(output, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["attention", "Good night, good night!", "-o", output]) == 2
    err = capsys.readouterr().err
    assert err.startswith("albert-explained attention: error: --output") and ".png" in err and ".html" in err
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.skipif(not HAS_BUNDLED, reason="the bundled model has not been built")
def test_files_that_cannot_be_written_or_read_give_one_line(tmp_path, capsys):
    (tmp_path / "a-file").write_text("")
    assert main(["attention", "Good night!", "-o", str(tmp_path / "a-file" / "head.png")]) == 2
    assert "a-file" in capsys.readouterr().err  # the OSError, in one line: not a traceback
    (tmp_path / "latin-1.txt").write_bytes("Ô Roméo\n\nadieu\n".encode("latin-1"))
    assert main(["pretrain", "--output-dir", str(tmp_path / "run"), "--corpus", str(tmp_path / "latin-1.txt")]) == 2
    assert f"corpus file {tmp_path / 'latin-1.txt'} is not UTF-8 text" in capsys.readouterr().err
    # A command-line argument whose bytes were not UTF-8 reaches Python as lone surrogates.
    assert main(["tokenize", "caf\udce9"]) == 2
    assert "text is not valid Unicode text: '\\udce9' at position 3" in capsys.readouterr().err


@pytest.mark.parametrize(
    "arguments",
    [
        ["tokenize", "hi", "--tokenizer", ""],
        ["fill-mask", "to [MASK]", "--model", ""],
        ["attention", "hi", "-o", ""],
        ["pretrain", "--corpus", " "],
        ["finetune", "multiple-choice", "--output-dir", ""],
    ],
)
def test_an_empty_path_is_refused_naming_the_option(arguments, capsys):
    """An empty --corpus read every text file under the current folder, an empty --tokenizer gave the bundled one."""
    with pytest.raises(SystemExit) as stopped:
        main(arguments)
    assert stopped.value.code == 2
    option = next(a for a in arguments if a.startswith("-"))
    assert f"argument {option if option != '-o' else '-o/--output'}: must not be empty" in capsys.readouterr().err


def test_the_python_api_refuses_an_empty_corpus_or_checkpoint():
    from albert_explained import AlbertModel
    from albert_explained.pretraining import PretrainingConfig

    with pytest.raises(ValueError, match="corpus must be 'shakespeare' or the path of a folder or file, got an empty"):
        PretrainingConfig(output_dir="run", corpus="").check()
    with pytest.raises(ValueError, match="name_or_path is empty"):
        AlbertModel.from_pretrained("")


def test_output_piped_into_a_reader_that_stops_early_ends_quietly():
    """`albert-explained fill-mask ... | head -1`: the reader closes the pipe after one line; the command stops there
    with the shells' code for a closed pipe, and says nothing (it said '[Errno 32] Broken pipe', exit 2)."""
    command = [sys.executable, "-m", "albert_explained", "fill-mask", "To be, or not to [MASK]", "--top-k", "4000"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline()  # the first answer
    process.stdout.close()
    assert process.wait(timeout=120) == 141
    assert process.stderr.read() == b""
