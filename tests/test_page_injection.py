"""The offline attention page keeps data as data, whatever the tokens and the title hold.

A sample can come from a tokenizer trained on any text, or be built by hand, so its tokens are hostile input: a token
that closes the data element ("</script>"), opens a comment ("<!--<script>"), names one of the template's slots
("{{data}}"), ends a JavaScript line (U+2028), or is half of a surrogate pair must end up on the page as that token's
text, and nothing else. The page is read back with Python's HTML parser (the elements a browser would build) and, where
Chromium is installed, drawn headless with a probe that reports whether any injected script ran.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
import torch

from albert_explained import views
from albert_explained.views.sample import AttentionSample

HOSTILE_TOKENS = [
    "[CLS]",
    "</script><script>window.injected = 1</script>",
    "<!--<script>",
    "{{data}}",
    "{{title}}",
    "{{script}}",
    "{{id}}",
    "\\",
    '\\"',
    "\\u003c/script>",
    "\u2028",
    "\u2029",
    "\ud800",  # half of a surrogate pair: not a character at all
    "<img src=x onerror=window.injected=1>",
    "]]>",
    "&lt;",
    "'\"`",
    "[SEP]",
]
HOSTILE_TITLE = "</title><script>window.injected = 1</script>{{data}} & \\ \u2028 \ud800"


def hostile_sample() -> AttentionSample:
    t = len(HOSTILE_TOKENS)
    return AttentionSample(list(HOSTILE_TOKENS), torch.full((2, 2, t, t), 1 / t), torch.arange(t), sentence_b_start=3)


class Elements(HTMLParser):
    """What a browser's parser builds from the page: every start tag, and the text inside each <script> and
    <title>."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.scripts: list[tuple[dict, str]] = []
        self.title = ""
        self._inside: tuple[str, dict] | None = None
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag in ("script", "title"):
            self._inside = (tag, dict(attrs))
            if tag == "script":
                self.scripts.append((dict(attrs), ""))

    def handle_endtag(self, tag):
        if self._inside and self._inside[0] == tag:
            self._inside = None

    def handle_data(self, data):
        if self._inside is None:
            return
        if self._inside[0] == "script":
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)
        else:
            self.title += data


def template_tags() -> list[str]:
    """The start tags of the page built from harmless data: hostile data must not add one."""
    t = 3
    plain = AttentionSample(["[CLS]", "a", "[SEP]"], torch.full((1, 1, t, t), 1 / t), torch.arange(t))
    return Elements(views.attention_html(plain, title="plain")).tags


def test_hostile_tokens_stay_data_the_page_has_the_template_elements_only():
    page = views.attention_html(hostile_sample(), title=HOSTILE_TITLE)
    elements = Elements(page)
    assert elements.tags == template_tags()  # no element was added, none was cut short
    (data_attrs, data_text), (code_attrs, code_text) = elements.scripts
    assert data_attrs == {"type": "application/json", "class": "attention-data"} and code_attrs == {}
    assert json.loads(data_text)["tokens"] == HOSTILE_TOKENS  # every token read back exactly as it was
    assert code_text.strip() == views.page._package_file("page.js").strip()  # the code is page.js and nothing else
    assert elements.title == HOSTILE_TITLE.replace("\ud800", "\ufffd")  # the title is text (a lone half is U+FFFD)


def test_the_page_is_ascii_so_its_encoding_cannot_matter():
    page = views.attention_html(hostile_sample(), title=HOSTILE_TITLE)
    assert page.isascii()
    assert "\u2028" not in page and "\u2029" not in page


def test_page_js_puts_tokens_on_the_page_only_as_text():
    script = views.page._package_file("page.js")
    for sink in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        'setTimeout("',
        'setInterval("',
    ):
        assert sink not in script, sink


def test_a_hand_built_sample_that_is_not_one_is_refused_before_a_page_is_made():
    with pytest.raises(TypeError, match="tokens must be a list of strings"):
        AttentionSample(["a", 3], torch.full((1, 1, 2, 2), 0.5), torch.arange(2))
    with pytest.raises(ValueError, match=r"attentions must be a tensor of shape \(layers, heads, 2, 2\)"):
        AttentionSample(["a", "b"], torch.full((1, 1, 3, 3), 0.5), torch.arange(2))
    with pytest.raises(ValueError, match="attentions must be probabilities"):
        AttentionSample(["a", "b"], torch.full((1, 1, 2, 2), float("nan")), torch.arange(2))
    with pytest.raises(ValueError, match="sentence_b_start must be None or a token index from 0 to 1"):
        AttentionSample(["a", "b"], torch.full((1, 1, 2, 2), 0.5), torch.arange(2), sentence_b_start="1")


@pytest.mark.skipif(shutil.which("chromium") is None, reason="headless Chromium is not installed")
def test_hostile_tokens_draw_in_headless_chromium_and_run_nothing(tmp_path):
    page = tmp_path / "page.html"
    views.save_html(hostile_sample(), page, title=HOSTILE_TITLE, view="lines")
    # The probe runs after page.js: it reports whether injected script ran, how many tokens the page parsed, and how
    # many pixels it drew.
    probe = """<script>window.addEventListener("load", function () {
      var c = document.querySelector("canvas"), d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      var inked = 0; for (var k = 0; k < d.length; k += 4) if (d[k] < 250 || d[k + 1] < 250) inked++;
      var tokens = JSON.parse(document.querySelector("script.attention-data").textContent).tokens;
      document.body.setAttribute("data-probe", [window.injected === undefined ? "clean" : "injected",
        tokens.length, document.scripts.length, inked].join(" ")); });</script></body>"""
    page.write_text(page.read_text().replace("</body>", probe))
    result = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = re.search(r'data-probe="(\w+) (\d+) (\d+) (\d+)"', result.stdout)
    assert found, result.stderr[-2000:]
    verdict, tokens, scripts, inked = found.group(1), *map(int, found.groups()[1:])
    assert verdict == "clean"
    assert tokens == len(HOSTILE_TOKENS) and scripts == 3  # data, page.js and the probe: nothing injected
    assert inked > 1000  # the page drew its tokens and lines
