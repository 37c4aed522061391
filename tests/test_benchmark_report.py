"""The benchmark report (`make bench`) runs end to end and writes its tables. Only that: timings are never checked."""

import runpy
from pathlib import Path

REPORT = Path(__file__).resolve().parent.parent / "benchmarks" / "report.py"


def test_benchmark_report_runs_every_section_and_writes_its_table_plot_and_data(tmp_path):
    main = runpy.run_path(str(REPORT), run_name="report")["main"]
    markdown = main(
        [
            "--quick",
            "--presets",
            "tiny",
            "--shapes",
            "2x8",
            "--rounds",
            "1",
            "--no-compile",
            "--threads",
            "1",
            "--device",
            "cpu",
            "--output",
            str(tmp_path),
        ]
    )

    assert markdown == tmp_path / "cpu.md"
    text = markdown.read_text(encoding="utf-8")
    for title in ("## Forward pass", "## Training step", "## Tokenizer", "## Peak training memory"):
        assert title in text
    assert text.count("Load average:") == 4  # beside every table
    for row in ("ours, eager", "ours, SDPA", "transformers, eager", "transformers, SDPA", "torch.matmul"):
        assert text.count(f"| tiny | 2 x 8 | 1 | {row} |") == 2  # forward and training step
    for row in ("ours", "ours, 1 thread", "transformers, slow", "transformers, fast"):
        assert text.count(f"| 1 | {row} |") == 2  # lists and padded tensors
    assert text.count("relative difference from transformers SDPA's") == 2  # every row checked before timing
    assert "The fast tokenizer's ids" in text
    assert "| tiny | 64 | 2 x 8 |" in text and "| BERT like tiny | 64 | 2 x 8 |" in text
    assert (tmp_path / "cpu.png").stat().st_size > 0
    assert (tmp_path / "cpu.json").stat().st_size > 0
