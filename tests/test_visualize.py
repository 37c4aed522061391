"""Attention views and analyses: what bertviz gets, that every view draws offline, and the analyses' numbers.

The analyses are checked on small hand-made attention tensors whose answers are known without our code (the entropy
of uniform attention is log T, rollout of identity attention is the identity, ...) or against an independent
computation (numpy matrix products, finite differences of the loss).
"""

import argparse
import html
import json
import math
import re
import shutil
import socket
import subprocess
import sys
import time
import warnings

import matplotlib

matplotlib.use("Agg")  # headless: no display needed

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from albert_explained import AlbertConfig, AlbertForMaskedLM, AlbertModel  # noqa: E402
from albert_explained import views  # noqa: E402
from albert_explained.bundled import inference_model  # noqa: E402
from albert_explained.views import analysis, bertviz_adapters  # noqa: E402
from albert_explained.cli import build_parser  # noqa: E402
from albert_explained.tokenizer import train_tokenizer  # noqa: E402

SENTENCES = [
    "the cat sat on the mat.",
    "a dog ran in the park and barked at the birds.",
    "she reads books about language every day.",
    "the quick brown fox jumps over the lazy dog.",
]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A directory holding a tiny trained tokenizer and a randomly initialised tiny AlbertForMaskedLM."""
    directory = tmp_path_factory.mktemp("tiny")
    # Whole words as pieces (SentencePiece's word model) keep these sentences short.
    tokenizer = train_tokenizer(
        SENTENCES * 10, vocab_size=60, out_dir=directory, hard_vocab_limit=False, model_type="word"
    )
    torch.manual_seed(0)
    config = AlbertConfig(
        vocab_size=tokenizer.vocab_size,
        embedding_size=16,
        hidden_size=32,
        num_hidden_layers=3,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=64,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        initializer_range=0.5,
    )
    AlbertForMaskedLM(config).save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def model_and_tokenizer(checkpoint):
    return inference_model(checkpoint)


@pytest.fixture(scope="module")
def padded_batch(model_and_tokenizer):
    """A single text and a pair, padded together; and the outputs with attentions."""
    model, tokenizer = model_and_tokenizer
    encoding = tokenizer([SENTENCES[0], (SENTENCES[1], SENTENCES[2])], padding=True, return_tensors="pt")
    with torch.no_grad():
        outputs = model(**encoding, output_attentions=True)
    return encoding, outputs


@pytest.fixture(scope="module")
def sample(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    return views.attend(SENTENCES[0], "a dog ran.", model, tokenizer)


def real_length(encoding, index):
    return int(encoding["attention_mask"][index].sum())


# ---------------------------------------------------------------------------------------------------------------
# bertviz adapters
# ---------------------------------------------------------------------------------------------------------------


def test_bertviz_arguments_hold_one_1xNxTxT_tensor_per_layer_and_one_token_per_position(
    padded_batch, model_and_tokenizer
):
    encoding, outputs = padded_batch
    _, tokenizer = model_and_tokenizer
    for index in range(2):
        arguments = views.AttentionSample.from_outputs(outputs, encoding, tokenizer, index).bertviz_arguments()
        t = real_length(encoding, index)
        assert len(arguments["attention"]) == len(outputs.attentions) == 3
        assert all(tuple(layer.shape) == (1, 4, t, t) for layer in arguments["attention"])
        assert len(arguments["tokens"]) == t


def test_a_batch_item_equals_the_same_text_run_alone(padded_batch, model_and_tokenizer):
    encoding, outputs = padded_batch
    model, tokenizer = model_and_tokenizer
    from_batch = views.AttentionSample.from_outputs(outputs, encoding, tokenizer, index=0)  # the padded one
    alone = views.attend(SENTENCES[0], model=model, tokenizer=tokenizer)
    assert from_batch.tokens == alone.tokens
    torch.testing.assert_close(from_batch.attentions, alone.attentions, atol=1e-5, rtol=1e-5)
    assert from_batch.attentions.sum(-1).sub(1).abs().max() < 1e-5  # rows still sum to 1: no padding column lost


def test_sentence_b_starts_after_the_first_sep_and_is_none_for_one_text(padded_batch, model_and_tokenizer):
    encoding, outputs = padded_batch
    _, tokenizer = model_and_tokenizer
    single = views.AttentionSample.from_outputs(outputs, encoding, tokenizer, index=0)
    pair = views.AttentionSample.from_outputs(outputs, encoding, tokenizer, index=1)
    assert single.sentence_b_start is None
    assert pair.tokens[pair.sentence_b_start - 1] == "[SEP]"
    assert pair.tokens.count("[SEP]") == 2 and pair.tokens[-1] == "[SEP]"


def test_prettify_strips_the_word_start_marker():
    assert views.prettify_tokens(["[CLS]", "▁the", "cat", "s", "▁", "[SEP]"]) == [
        "[CLS]",
        "the",
        "cat",
        "s",
        "▁",
        "[SEP]",
    ]


# bertviz opens its .js files without closing them; the ResourceWarning is bertviz's, not ours.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_bertviz_accepts_the_adapter_output_for_a_batch_item(padded_batch, model_and_tokenizer):
    encoding, outputs = padded_batch
    _, tokenizer = model_and_tokenizer
    head = views.head_view(outputs, encoding, tokenizer, index=1, html_action="return")
    model = views.model_view(outputs, encoding, tokenizer, index=1, html_action="return")
    t = real_length(encoding, 1)
    for page in (head.data, model.data):
        # bertviz inlines the attention as JSON: each layer has N heads of t rows of t values.
        attn = json.loads(re.search(r'"attn": (\[.*?\]\]\]\]),', page).group(1))
        assert (len(attn), len(attn[0]), len(attn[0][0]), len(attn[0][0][0])) == (3, 4, t, t)
    assert "Sentence A -> Sentence B" in head.data  # the pair filters appear because sentence B was marked


def test_the_network_check_is_false_for_a_name_that_cannot_resolve_or_a_closed_port_and_true_for_a_listener():
    started = time.monotonic()
    assert not bertviz_adapters.can_reach("cdn.invalid")  # .invalid never resolves (RFC 2606): as offline
    assert time.monotonic() - started < 5
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert bertviz_adapters.can_reach("127.0.0.1", port)
    # The listener is gone, but the answer is asked once per process.
    assert bertviz_adapters.can_reach("127.0.0.1", port)
    assert not bertviz_adapters.can_reach("127.0.0.1", port, timeout=1.0)  # asked anew: the port is closed now


@pytest.mark.parametrize("view", ["head_view", "model_view"])
def test_bertviz_adapters_offline_say_so_and_show_the_offline_page(view, sample, monkeypatch, capsys):
    import IPython.display

    shown = []
    monkeypatch.setattr(bertviz_adapters, "can_reach", lambda *args, **kwargs: False)
    monkeypatch.setattr(IPython.display, "display", lambda *objects: shown.extend(objects))
    assert getattr(views, view)(sample) is None
    assert "bertviz needs the network" in capsys.readouterr().out
    page = html.unescape(shown[0].data.split('srcdoc="', 1)[1].split('" style=', 1)[0])
    assert embedded_data(page)["view"] == {"head_view": "lines", "model_view": "layer"}[view]
    assert "https:" not in shown[0].data and len(shown) == 1  # nothing of bertviz's, so no error box


# bertviz opens its .js files without closing them; the ResourceWarning is bertviz's, not ours.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_bertviz_adapters_online_display_bertviz_itself(sample, monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(bertviz_adapters, "can_reach", lambda *args, **kwargs: True)
    monkeypatch.setattr(IPython.display, "display", lambda *objects: shown.extend(objects))
    import bertviz  # noqa: F401  (loads the module whose display bertviz calls)

    monkeypatch.setattr(sys.modules["bertviz.head_view"], "display", lambda *objects: shown.extend(objects))
    views.head_view(sample)
    assert "require.min.js" in shown[0].data  # bertviz's own page, which loads its scripts from the CDN


def test_bertviz_rejects_the_raw_padded_batch_that_the_adapter_fixes(padded_batch, model_and_tokenizer):
    from bertviz import head_view

    encoding, outputs = padded_batch
    _, tokenizer = model_and_tokenizer
    tokens = tokenizer.convert_ids_to_tokens(encoding["input_ids"][0, : real_length(encoding, 0)].tolist())
    with pytest.raises(ValueError, match="positions, while number of tokens is"):  # bertviz issue #101
        head_view(outputs.attentions, tokens, html_action="return")


def test_outputs_without_attentions_give_an_actionable_error(padded_batch, model_and_tokenizer):
    encoding, _ = padded_batch
    model, tokenizer = model_and_tokenizer
    with torch.no_grad():
        outputs = model(**encoding)
    with pytest.raises(ValueError, match="output_attentions=True"):
        views.AttentionSample.from_outputs(outputs, encoding, tokenizer)


def bundled_is_present() -> bool:
    try:
        from albert_explained.bundled import bundled_model_dir

        bundled_model_dir()
        return True
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not bundled_is_present(), reason="the bundled model is not in this checkout")
def test_the_bundled_model_is_the_default():
    sample = views.attend("To be, or not to be: that is the question.")
    assert sample.tokens[0] == "[CLS]" and sample.tokens[-1] == "[SEP]"
    bundled_config = inference_model()[0].config
    assert sample.attentions.shape[:2] == (bundled_config.num_layer_applications, bundled_config.num_attention_heads)


def test_a_model_without_its_tokenizer_is_refused(model_and_tokenizer):
    model, _ = model_and_tokenizer
    with pytest.raises(ValueError, match="pass both model and tokenizer, or neither"):
        views.attend("the cat", model=model)


# ---------------------------------------------------------------------------------------------------------------
# Offline views
# ---------------------------------------------------------------------------------------------------------------


def test_every_matplotlib_view_renders_headless_and_saves_a_png(sample, tmp_path):
    figures = [
        views.plot_head(sample, 1, 2),
        views.plot_head(sample, 0, None, view="lines"),
        views.plot_layer(sample, 2),
        views.plot_layer(sample, 0, view="lines"),
        views.plot_layer_heads(sample),
        views.plot_entropy(views.attention_entropy(sample.attentions[:, None]), len(sample.tokens)),
        views.plot_shares(views.attention_shares(sample.attentions[:, None], sample.input_ids[None])),
        views.plot_rollout(
            views.attention_rollout(sample.attentions[:, None])[0], sample.tokens, sample.attentions[-1].mean(0)
        ),
        views.plot_head_across_depths(
            sample.attentions, sample.tokens, 1, views.depth_divergence(sample.attentions[:, None])[1]
        ),
        views.plot_masking_curve(views.MaskingCurve([0, 6, 12], [0.5, 0.4, 0.1], [0.5, 0.3, 0.1], 12)),
    ]
    for number, figure in enumerate(figures):
        path = views.save_figure(figure, tmp_path / f"view{number}.png", dpi=40)
        assert path.read_bytes().startswith(PNG_MAGIC)
        plt.close(figure)


def test_layer_or_head_out_of_range_names_the_valid_range(sample):
    with pytest.raises(ValueError, match=r"layer must be between 0 and 2"):
        views.plot_head(sample, 3, 0)
    with pytest.raises(ValueError, match=r"head must be between 0 and 3"):
        views.plot_head(sample, 0, 4)


def test_explorer_redraws_when_its_controls_change(model_and_tokenizer, tmp_path):
    model, tokenizer = model_and_tokenizer
    explorer = views.AttentionExplorer(model, tokenizer, text=SENTENCES[0])
    assert explorer.layer.max == 2 and len(explorer.head.options) == 5  # "mean of heads" and heads 0..3
    for view in views.EXPLORER_VIEWS[1:] + views.EXPLORER_VIEWS[:1]:  # starts at the first
        before = explorer.figure
        explorer.view.value = view
        assert explorer.figure is not before
    explorer.view.value = "heatmap"
    explorer.layer.value, explorer.head.value = 2, -1
    assert explorer.figure.axes[0].get_title() == "layer 2, mean of heads"
    explorer.view.value = "this head at every depth"  # with the mean of heads chosen
    shown = bytes(explorer.image.value)
    assert shown.startswith(PNG_MAGIC) and explorer.message.layout.display == "none"
    explorer.view.value = "heatmap"
    assert bytes(explorer.image.value) != shown  # the image follows the figure
    mine = plt.figure()  # a figure of the user's, current while the explorer meets two texts it cannot show
    explorer.text.value = " ".join(["cat"] * 100)  # longer than max_position_embeddings: a message, no exception
    explorer.text.value = " ".join(["dog"] * 100)
    assert plt.fignum_exists(mine.number)
    assert explorer.message.layout.display is None and explorer.image.layout.display == "none"
    assert explorer.message.value.startswith("cannot show this text: the sequence has")
    explorer.layer.value = 1  # nothing of the previous text is drawn again under the message, or saved
    assert explorer.figure is None and explorer.image.layout.display == "none"
    with pytest.raises(ValueError, match="nothing to save: cannot show this text: the sequence has"):
        explorer.save(tmp_path / "stale.png")
    explorer.text.value = SENTENCES[0]
    assert explorer.message.layout.display == "none" and explorer.image.layout.display is None
    assert explorer.figure.axes[0].get_title() == "layer 1, mean of heads"
    explorer.text_pair.value = "a dog ran."
    assert explorer.sample.sentence_b_start is not None and "dog" in "".join(explorer.sample.tokens)
    assert explorer.save(tmp_path / "explorer.png").read_bytes().startswith(PNG_MAGIC)
    assert "<canvas>" in explorer.save(tmp_path / "explorer.html").read_text()
    plt.close("all")


def embedded_data(page: str) -> dict:
    """The page's data, read back as the browser reads it: the text of its JSON <script> element, parsed."""
    return json.loads(
        re.search(r'<script type="application/json" class="attention-data">(.*?)</script>', page, re.DOTALL).group(1)
    )


def test_html_export_contains_no_network_reference(sample):
    for view in ("lines", "heatmap", "layer", "depths"):
        page = views.attention_html(sample, layer=1, head=0, view=view).lower()
        for reference in ("http:", "https:", "//cdn", "<script src", "<link", "@import", "<iframe"):
            assert reference not in page, reference
        assert not re.search(r"(?<![a-z])url\(", page)  # no CSS url(...) either (canvas.toDataURL is fine)


def test_html_export_embeds_every_attention_value_in_thousandths(sample):
    data = embedded_data(views.attention_html(sample))
    a, n, t = sample.num_layers, sample.num_heads, len(sample.tokens)
    assert (data["layers"], data["heads"], data["tokens"], data["b_start"]) == (
        a,
        n,
        sample.tokens,
        sample.sentence_b_start,
    )
    values = torch.tensor(data["attn"], dtype=torch.float32).view(a, n, t, t) / 1000
    assert (values - sample.attentions).abs().max() <= 0.0005 + 1e-6


def test_html_export_is_deterministic_and_escapes_tokens(sample):
    tricky = views.AttentionSample(
        ["[CLS]", "</script>", "<b>&"], torch.full((1, 1, 3, 3), 1 / 3), torch.tensor([2, 7, 8])
    )
    page = views.attention_html(tricky)
    assert page == views.attention_html(tricky)
    assert "</script>" not in page.split("<script>", 1)[1].rsplit("</script>", 1)[0]
    assert embedded_data(page)["tokens"] == ["[CLS]", "</script>", "<b>&"]


def test_show_html_puts_the_page_in_an_iframe_of_its_own(sample):
    shown = views.show_html(sample).data
    assert shown.startswith("<div><iframe srcdoc=") and "https:" not in shown
    assert html.unescape(shown.split('srcdoc="', 1)[1].split('" style=', 1)[0]) == views.attention_html(sample)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="headless Chromium is not installed")
def test_html_export_draws_in_an_offline_headless_browser(sample, tmp_path):
    page = tmp_path / "page.html"
    views.save_html(sample, page, view="heatmap")
    check = """<script>window.addEventListener("load", function () {
      var c = document.querySelector("canvas"), d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      var inked = 0; for (var k = 0; k < d.length; k += 4) if (d[k] < 250 || d[k + 1] < 250) inked++;
      document.body.setAttribute("data-inked", inked); });</script></body>"""
    page.write_text(page.read_text().replace("</body>", check))
    result = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert int(re.search(r'data-inked="(\d+)"', result.stdout).group(1)) > 1000  # tokens and cells were drawn


# ---------------------------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------------------------


def attention_parser() -> argparse.ArgumentParser:
    return build_parser()


def test_attention_command_writes_a_png_and_a_self_contained_html(checkpoint, tmp_path, capsys):
    parser = attention_parser()
    for name in ("out.png", "out.html"):
        args = parser.parse_args(
            [
                "attention",
                SENTENCES[0],
                "--layer",
                "1",
                "--head",
                "2",
                "--model",
                str(checkpoint),
                "-o",
                str(tmp_path / name),
            ]
        )
        args.handler(args)
    assert (tmp_path / "out.png").read_bytes().startswith(PNG_MAGIC)
    assert embedded_data((tmp_path / "out.html").read_text())["layer"] == 1
    assert "where each token looks most" in capsys.readouterr().out
    plt.close("all")


def test_attention_command_help_names_its_options(capsys):
    with pytest.raises(SystemExit):
        attention_parser().parse_args(["attention", "--help"])
    help_text = capsys.readouterr().out
    for option in ("--layer", "--head", "--model", "-o", "--pair"):
        assert option in help_text


# ---------------------------------------------------------------------------------------------------------------
# Analyses on hand-made attention
# ---------------------------------------------------------------------------------------------------------------


def uniform(t: int, layers: int = 2, heads: int = 3, batch: int = 1) -> torch.Tensor:
    return torch.full((layers, batch, heads, t, t), 1.0 / t)


def shift(t: int, offset: int) -> torch.Tensor:
    """(T, T) attention in which token i looks only at token i + offset (clamped at the ends)."""
    matrix = torch.zeros(t, t)
    for i in range(t):
        matrix[i, min(max(i + offset, 0), t - 1)] = 1.0
    return matrix


def test_entropy_of_uniform_attention_is_log_T():
    torch.testing.assert_close(views.attention_entropy(uniform(7)), torch.full((2, 3), math.log(7)))


def test_entropy_of_one_hot_attention_is_zero():
    one_hot = shift(5, -1).expand(2, 1, 3, 5, 5)
    torch.testing.assert_close(views.attention_entropy(one_hot), torch.zeros(2, 3))


def test_entropy_ignores_padding_queries_and_padding_keys():
    t, real = 6, 4
    attention = torch.zeros(1, 1, 1, t, t)
    attention[..., :, :real] = 1.0 / real  # every row uniform over the 4 real tokens
    attention[..., real:, :] = torch.tensor([1.0, 0, 0, 0, 0, 0])  # padding rows: whatever, must not count
    mask = torch.tensor([[1, 1, 1, 1, 0, 0]])
    torch.testing.assert_close(views.attention_entropy(attention, mask), torch.full((1, 1), math.log(real)))


def test_shares_of_previous_next_and_self_heads():
    t = 6
    heads = torch.stack([shift(t, -1), shift(t, 1), torch.eye(t)])  # previous, next, self: (3, T, T)
    shares = views.attention_shares(heads[None, None], torch.tensor([[2, 9, 9, 9, 9, 3]]))
    torch.testing.assert_close(shares["previous"][0], torch.tensor([1.0, 0.0, 0.0]))
    torch.testing.assert_close(shares["next"][0], torch.tensor([0.0, 1.0, 0.0]))
    torch.testing.assert_close(shares["self"][0], torch.tensor([1 / t, 1 / t, 1.0]))  # clamped ends look at self


def test_shares_to_cls_and_to_both_seps_of_a_pair():
    ids = torch.tensor([[2, 9, 3, 9, 9, 3, 0]])  # [CLS] a [SEP] b b [SEP] <pad>
    mask = torch.tensor([[1, 1, 1, 1, 1, 1, 0]])
    attention = torch.zeros(1, 1, 1, 7, 7)
    attention[..., :6, :6] = 1.0 / 6  # uniform over the 6 real tokens
    shares = views.attention_shares(attention, ids, mask)
    torch.testing.assert_close(shares["[CLS]"], torch.full((1, 1), 1 / 6))
    torch.testing.assert_close(shares["[SEP]"], torch.full((1, 1), 2 / 6))  # two [SEP]s
    torch.testing.assert_close(shares["next"], torch.full((1, 1), 1 / 6))  # over the 5 tokens with a real next


def test_rollout_of_identity_attention_is_the_identity():
    identity = torch.eye(5).expand(4, 2, 3, 5, 5)
    torch.testing.assert_close(views.attention_rollout(identity), torch.eye(5).expand(2, 5, 5))


def test_rollout_of_one_layer_is_half_attention_plus_half_identity():
    attention = torch.softmax(torch.randn(1, 1, 3, 5, 5, generator=torch.Generator().manual_seed(0)), -1)
    expected = 0.5 * attention[0, 0].mean(0) + 0.5 * torch.eye(5)
    torch.testing.assert_close(views.attention_rollout(attention)[0], expected)


def test_rollout_equals_the_product_of_layers_computed_with_numpy():
    attention = torch.softmax(torch.randn(4, 2, 3, 6, 6, generator=torch.Generator().manual_seed(1)), -1)
    for b in range(2):
        product = np.eye(6)
        for layer in attention.numpy():
            fused = 0.5 * layer[b].mean(0) + 0.5 * np.eye(6)
            fused /= fused.sum(-1, keepdims=True)
            product = fused @ product  # the top layer acts last
        np.testing.assert_allclose(views.attention_rollout(attention)[b].numpy(), product, rtol=1e-5, atol=1e-6)
    assert views.attention_rollout(attention, all_layers=True).shape == (4, 2, 6, 6)


def test_depth_divergence_is_zero_for_equal_depths_and_log2_for_disjoint_ones():
    same = torch.stack([shift(4, -1), shift(4, -1)])[:, None, None]  # (A=2, B=1, N=1, T, T)
    torch.testing.assert_close(views.depth_divergence(same), torch.zeros(1, 2, 2))
    disjoint = torch.zeros(2, 1, 1, 4, 4)
    disjoint[0, ..., 0], disjoint[1, ..., 1] = 1.0, 1.0  # depth 0 looks at token 0 only, depth 1 at token 1 only
    expected = torch.tensor([[0.0, math.log(2)], [math.log(2), 0.0]])
    torch.testing.assert_close(views.depth_divergence(disjoint)[0], expected)


# ---------------------------------------------------------------------------------------------------------------
# Head importance and masking
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mlm_batch(padded_batch):
    encoding, _ = padded_batch
    batch = views.mask_tokens_for_mlm(encoding["input_ids"], encoding["attention_mask"], fraction=0.3)
    return {**batch, "attention_mask": encoding["attention_mask"], "token_type_ids": encoding["token_type_ids"]}


def test_mlm_masking_leaves_special_tokens_and_padding_alone(mlm_batch, padded_batch):
    encoding, _ = padded_batch
    masked = mlm_batch["labels"] != -100
    assert masked.sum(-1).min() >= 1
    assert (encoding["input_ids"][masked] > 4).all()  # never <pad>, <unk>, [CLS], [SEP] or [MASK]
    assert (mlm_batch["input_ids"][masked] == 4).all()
    assert torch.equal(mlm_batch["labels"][masked], encoding["input_ids"][masked])


def test_mlm_masking_keeps_the_batch_shape_and_dtype_even_with_no_rows_or_nothing_to_mask():
    empty = views.mask_tokens_for_mlm(torch.zeros(0, 8, dtype=torch.long))
    assert empty["input_ids"].shape == empty["labels"].shape == (0, 8)
    specials_only = torch.tensor([[2, 3, 0], [2, 9, 3]], dtype=torch.int32)  # row 0: [CLS] [SEP] <pad>
    batch = views.mask_tokens_for_mlm(specials_only, fraction=0.5)
    assert batch["input_ids"].dtype == torch.int32 and batch["input_ids"].shape == (2, 3)
    assert torch.equal(batch["input_ids"], torch.tensor([[2, 3, 0], [2, 4, 3]], dtype=torch.int32))
    assert batch["labels"].tolist() == [[-100, -100, -100], [-100, 9, -100]]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_mlm_masking_picks_the_same_tokens_on_a_gpu(padded_batch):
    encoding, _ = padded_batch
    on_cpu = views.mask_tokens_for_mlm(encoding["input_ids"], encoding["attention_mask"], seed=5)
    on_gpu = views.mask_tokens_for_mlm(encoding["input_ids"].cuda(), encoding["attention_mask"].cuda(), seed=5)
    assert on_gpu["labels"].is_cuda and torch.equal(on_gpu["labels"].cpu(), on_cpu["labels"])


def test_head_importance_is_the_loss_gradient_found_by_finite_differences(model_and_tokenizer, mlm_batch):
    model, _ = model_and_tokenizer
    model64 = AlbertForMaskedLM(model.config).double().eval()
    model64.load_state_dict(model.state_dict())
    importance = views.head_importance(model64, mlm_batch, normalize_layers=False)
    eps = 1e-5
    for application, head in [(0, 0), (1, 3), (2, 1)]:
        losses = []
        for sign in (1, -1):
            gates = torch.ones(3, 4, dtype=torch.float64)
            gates[application, head] += sign * eps
            with torch.no_grad():
                losses.append(model64(**mlm_batch, head_mask=gates).loss.item())
        assert importance[application, head].item() == pytest.approx(
            abs(losses[0] - losses[1]) / (2 * eps), rel=1e-4, abs=1e-8
        )
    normalised = views.head_importance(model64, mlm_batch)
    torch.testing.assert_close(normalised.norm(dim=1), torch.ones(3, dtype=normalised.dtype))


def test_mlm_accuracy_counts_argmax_hits_at_labelled_positions_only(model_and_tokenizer, mlm_batch):
    model, _ = model_and_tokenizer
    with torch.no_grad():
        predictions = model(**{k: v for k, v in mlm_batch.items() if k != "labels"}).logits.argmax(-1)
    scored = mlm_batch["labels"] != -100
    expected = (predictions[scored] == mlm_batch["labels"][scored]).float().mean().item()
    assert views.mlm_accuracy(model, mlm_batch) == pytest.approx(expected)


def test_least_important_mask_switches_off_the_lowest_scores():
    importance = torch.tensor([[0.5, 0.1], [0.9, 0.3]])
    torch.testing.assert_close(views.least_important_mask(importance, 2), torch.tensor([[1.0, 0.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="between 0 and the number of heads"):
        views.least_important_mask(importance, 5)


def test_masking_curve_measures_each_distinct_mask_once(model_and_tokenizer, mlm_batch, monkeypatch):
    model, _ = model_and_tokenizer
    importance = torch.arange(12.0).view(3, 4)
    measured = []
    accuracy = analysis.mlm_accuracy
    monkeypatch.setattr(analysis, "mlm_accuracy", lambda m, b, mask: measured.append(mask) or accuracy(m, b, mask))
    curve = analysis.masking_curve(model, mlm_batch, importance, fractions=(0.0, 0.5, 1.0), random_orders=2)
    distinct = {tuple(mask.flatten().tolist()) for mask in measured}
    assert len(measured) == len(distinct) and 3 <= len(measured) <= 5  # none masked, all masked, up to 3 halves
    for count, importance_order, random_orders in curve.rows():  # as if each had been measured on its own
        assert importance_order == accuracy(model, mlm_batch, analysis.least_important_mask(importance, count))
        if count in (0, 12):  # no head or every head masked: the same mask whatever the order
            assert random_orders == importance_order


def test_masking_curve_starts_unmasked_and_ends_with_every_head_off(model_and_tokenizer, mlm_batch):
    model, _ = model_and_tokenizer
    importance = views.head_importance(model, mlm_batch)
    curve = views.masking_curve(model, mlm_batch, importance, fractions=(0.0, 0.5, 1.0), random_orders=1)
    assert curve.num_masked == [0, 6, 12] and curve.total_heads == 12
    assert curve.accuracy[0] == pytest.approx(views.mlm_accuracy(model, mlm_batch))
    assert curve.accuracy[-1] == pytest.approx(views.mlm_accuracy(model, mlm_batch, torch.zeros(3, 4)))
    assert curve.random_accuracy[0] == curve.accuracy[0] and curve.random_accuracy[-1] == curve.accuracy[-1]


@pytest.mark.slow  # about 70 forward passes of 128 pairs through the bundled model: minutes on 2 busy cores
@pytest.mark.skipif(not bundled_is_present(), reason="the bundled model is not in this checkout")
def test_notebook_07s_reading_of_head_masking_holds_for_other_draws_of_the_masks():
    """Notebook 07 (section 6.4) says importance order is no better than random in the bundled model, whichever way
    the masks fall; docs/results.md ("Head importance across draws of the masks") gives the figures: its own batch
    of 128 held-out pairs, masked with other seeds, puts the importance order up to 8 points behind random (seeds 1,
    2) or 5.5 ahead (seed 3), and one head's score goes from 1.00 to 0.09."""
    from albert_explained.pretraining.corpus import VALIDATION_PLAYS, load_plays

    model, tokenizer = inference_model()  # on the CPU, where the notebook's figures were measured
    lines = [line for play in load_plays(VALIDATION_PLAYS) for line in play.sentences if len(line.split()) >= 5]
    pairs = tokenizer([(lines[i], lines[i + 1]) for i in range(0, 2 * 128, 2)], padding=True, return_tensors="pt")
    largest_gap, importance = {}, {}
    for seed in range(4):
        masked = views.mask_tokens_for_mlm(pairs["input_ids"], pairs["attention_mask"], fraction=0.15, seed=seed)
        batch = {
            "input_ids": masked["input_ids"],
            "labels": masked["labels"],
            "attention_mask": pairs["attention_mask"],
            "token_type_ids": pairs["token_type_ids"],
        }
        importance[seed] = views.head_importance(model, batch)  # (A, N)
        if seed == 0:
            continue  # the notebook's own draw: only its importance scores are checked here
        curve = views.masking_curve(model, batch, importance[seed], random_orders=2)
        gaps = [accuracy - random_accuracy for _, accuracy, random_accuracy in curve.rows()]
        largest_gap[seed] = max(gaps, key=abs)
    assert -0.085 < min(largest_gap[1], largest_gap[2]) < -0.075  # "up to 8 points behind"
    assert 0.05 < largest_gap[3] < 0.06  # "leads by up to 5.5"
    assert importance[0][3, 1] > 0.995 and 0.085 < importance[1][3, 1] < 0.095  # "1.00 ... 0.09"


def test_layer_transitions_measure_each_step_over_real_tokens_only():
    torch.manual_seed(0)
    config = AlbertConfig(
        vocab_size=50,
        embedding_size=8,
        hidden_size=16,
        num_hidden_layers=3,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=16,
    )
    model = AlbertModel(config).train()
    ids = torch.randint(5, 50, (2, 6))
    mask = torch.ones_like(ids)
    mask[1, 4:] = 0  # the second sentence ends in two padding tokens
    distances, angles = analysis.layer_transitions(model, ids, mask)
    assert model.training  # the mode it was in is put back

    with torch.no_grad():
        model.eval()
        hidden = model(ids, attention_mask=mask, output_hidden_states=True).hidden_states
    real = [(b, t) for b in range(2) for t in range(6) if mask[b, t]]
    for i in range(config.num_hidden_layers):  # an independent computation in numpy, token by token
        a = [hidden[i][b, t].numpy().astype(np.float64) for b, t in real]
        c = [hidden[i + 1][b, t].numpy().astype(np.float64) for b, t in real]
        pairs = list(zip(a, c, strict=True))
        expected_distance = np.mean([np.linalg.norm(y - x) for x, y in pairs])
        cosines = [np.clip(x @ y / np.linalg.norm(x) / np.linalg.norm(y), -1, 1) for x, y in pairs]
        expected_angle = np.mean([math.degrees(math.acos(cosine)) for cosine in cosines])
        assert distances[i] == pytest.approx(expected_distance, rel=1e-5)
        assert angles[i] == pytest.approx(expected_angle, rel=1e-4, abs=1e-3)

    fig = views.plot_layer_transitions([("tiny", {"ALBERT": (distances, angles)})])
    assert [ax.get_ylabel() for ax in fig.axes] == ["L2 distance", "angle (degrees)"]
    plt.close(fig)


def test_a_page_or_figure_that_cannot_be_written_names_the_path_asked_for(sample, tmp_path):
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "a-folder.html").mkdir()
    with pytest.raises(ValueError, match=r"path must end in \.html or \.htm for an HTML page, got '.*page\.txt'"):
        views.save_html(sample, tmp_path / "page.txt")
    with pytest.raises(
        NotADirectoryError,
        match=rf"cannot write {tmp_path}/a-file/page\.html: {tmp_path}/a-file is "
        rf"a file, not a folder",
    ):
        views.save_html(sample, tmp_path / "a-file" / "page.html")
    with pytest.raises(IsADirectoryError, match=rf"cannot write {tmp_path}/a-folder\.html: Is a directory"):
        views.save_html(sample, tmp_path / "a-folder.html")
    fig = plt.figure()
    with pytest.raises(NotADirectoryError, match=rf"cannot write {tmp_path}/a-file/f\.png"):
        views.save_figure(fig, tmp_path / "a-file" / "f.png")
    plt.close(fig)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "a-folder.html"]  # no hidden file left


def test_attention_on_a_task_models_directory_does_not_warn_about_the_mlm_head_it_does_not_use(checkpoint, tmp_path):
    from albert_explained import AlbertForSequenceClassification
    from albert_explained.tokenizer import AlbertTokenizer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the task head is new here: its own warning is not what this test is about
        AlbertForSequenceClassification.from_pretrained(checkpoint).save_pretrained(tmp_path / "task")
    AlbertTokenizer.from_pretrained(checkpoint).save_pretrained(tmp_path / "task")
    args = attention_parser().parse_args(
        ["attention", SENTENCES[0], "--model", str(tmp_path / "task"), "-o", str(tmp_path / "out.png")]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        args.handler(args)
    assert (tmp_path / "out.png").read_bytes().startswith(PNG_MAGIC)
    plt.close("all")
