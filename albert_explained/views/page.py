"""The offline attention page: one self-contained HTML file that draws a sentence's attention in any browser.

The page holds the attention values and a small renderer written for this project (page.js: plain JavaScript on a
<canvas>), with no reference to anything on the network, so it opens offline and its picture can be saved as PNG from
the page. Its views: one head as lines or as a heatmap, all heads of a layer, one head at every depth.

The page is page.html with four slots filled in one pass, so that nothing put into one slot can be read as another:

    {{title}}   the title, HTML-escaped
    {{id}}      the page element's id: a hash of the data, so the same sample gives the same page
    {{data}}    the sample as JSON inside <script type="application/json">: data the browser never runs. Every
                character outside ASCII, and every "<", ">" and "&", is written as a \\uXXXX escape, which JSON reads
                back as the same character, so no token, whatever it holds ("</script>", "<!--<script>", "{{title}}",
                a line separator, half of a surrogate pair), can end the element early or be read as markup
    {{script}}  page.js, which finds its data beside itself, parses it with JSON.parse and puts tokens on the page
                only as text (textContent, canvas fillText), never as HTML

The whole page is ASCII (the title's other characters become character references), so it reads the same in any
encoding. tests/test_page_injection.py attacks it with hostile tokens and titles, reads the page back with Python's
HTML parser and draws it in headless Chromium.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import torch

from ..files import make_parent_folder, write_text
from .sample import AttentionSample

PAGE_SUFFIXES = (".html", ".htm")  # the file names save_html and the attention command accept for a page
PAGE_VIEWS = ("lines", "heatmap", "layer", "depths")
_SLOT = re.compile(r"\{\{(title|id|data|script)\}\}")
# Characters that could end a <script> element early or start markup (json.dumps escapes the others).
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


def _package_file(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def json_for_script(data: Any) -> str:
    """JSON text that is safe inside <script type="application/json">: see the module docstring."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return re.sub("[<>&]", lambda match: _JSON_ESCAPES[match.group()], text)


def attention_html(
    sample: AttentionSample,
    layer: int = 0,
    head: int = 0,
    view: str = "lines",
    title: Optional[str] = None,
    include_layers: Optional[Sequence[int]] = None,
) -> str:
    """One self-contained HTML page (a string) showing the sample's attention; opens offline in any browser.

    view: "lines", "heatmap", "layer" (all heads of the layer) or "depths" (this head at every depth).
    include_layers keeps only some layers, to make the page smaller for long texts or deep models.
    """
    if view not in PAGE_VIEWS:
        raise ValueError(f"view must be one of {', '.join(PAGE_VIEWS)}, got {view!r}")
    sample.check_layer_head(layer, None if head == -1 else head)
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a string (or None: the text itself), got {type(title).__name__}")
    if include_layers is not None:
        count = sample.attentions.shape[0]
        if not list(include_layers) or not all(isinstance(i, int) and 0 <= i < count for i in include_layers):
            raise ValueError(f"include_layers must list one or more layers in [0, {count}), got {include_layers!r}")
    attentions = sample.attentions if include_layers is None else sample.attentions[list(include_layers)]
    if include_layers is not None:
        layer = list(include_layers).index(layer) if layer in include_layers else 0
    data = {
        "tokens": sample.tokens,
        "b_start": sample.sentence_b_start,
        "layers": attentions.shape[0],
        "heads": attentions.shape[1],
        "layer": layer,
        "head": head,
        "view": view,
        # Thousandths as integers: a third of the size of floats, and finer than a colour can show.
        "attn": (attentions * 1000).round().to(torch.int32).flatten().tolist(),
    }
    payload = json_for_script(data)
    slots = {
        "title": html.escape(title or " ".join(sample.tokens)).encode("ascii", "xmlcharrefreplace").decode("ascii"),
        "id": "attention-" + hashlib.sha1(payload.encode()).hexdigest()[:10],
        "data": payload,
        "script": _package_file("page.js"),
    }
    return _SLOT.sub(lambda match: slots[match.group(1)], _package_file("page.html"))


def save_html(sample: AttentionSample, path: Union[str, os.PathLike], **options: Any) -> Path:
    """Write attention_html(sample, **options) to `path` (a name ending in .html or .htm), atomically."""
    path = Path(path)
    if path.suffix.lower() not in PAGE_SUFFIXES:
        raise ValueError(f"path must end in {' or '.join(PAGE_SUFFIXES)} for an HTML page, got {str(path)!r}")
    make_parent_folder(path)
    return write_text(path, attention_html(sample, **options))


def show_html(sample: AttentionSample, height: int = 520, **options: Any):
    """The HTML page inside a notebook: an <iframe srcdoc> so that several pages never interfere."""
    from IPython.display import HTML

    page = html.escape(attention_html(sample, **options), quote=True)
    return HTML(f'<div><iframe srcdoc="{page}" style="width:100%;height:{height}px;border:none"></iframe></div>')
