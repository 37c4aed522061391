// The renderer of the offline attention page (views/page.py): plain JavaScript on a <canvas>, nothing fetched.
// page.py inlines this file into each page, inside the <div> it draws in, after the page's data.
(function () {
  "use strict";
  // The page around this script: its data come as JSON text, read as data (never run as code).
  var root = document.currentScript.parentNode;
  var DATA = JSON.parse(root.querySelector("script.attention-data").textContent);
  var A = DATA.layers, N = DATA.heads, T = DATA.tokens.length, tokens = DATA.tokens;
  var canvas = root.querySelector("canvas"), ctx = canvas.getContext("2d");
  var layerSel = root.querySelector(".layer"), headSel = root.querySelector(".head");
  var viewSel = root.querySelector(".view"), status = root.querySelector(".status");
  var hover = null, regions = [];

  function option(select, value, text) {
    var o = document.createElement("option"); o.value = value; o.textContent = text; select.appendChild(o);
  }
  for (var l = 0; l < A; l++) option(layerSel, l, String(l));
  option(headSel, -1, "mean of heads");
  for (var h = 0; h < N; h++) option(headSel, h, String(h));
  layerSel.value = DATA.layer; headSel.value = DATA.head; viewSel.value = DATA.view;

  // attention[layer][head][i][j] is stored flat, in thousandths.
  function w(layer, head, i, j) {
    if (head < 0) {
      var s = 0; for (var k = 0; k < N; k++) s += w(layer, k, i, j); return s / N;
    }
    return DATA.attn[((layer * N + head) * T + i) * T + j] / 1000;
  }
  function isB(i) { return DATA.b_start !== null && i >= DATA.b_start; }
  function tokenColor(i) { return isB(i) ? "#d86f00" : "#222"; }
  function cellColor(x) { return "rgba(31,119,180," + x.toFixed(3) + ")"; }

  function resize(width, height) {
    var r = window.devicePixelRatio || 1;
    canvas.width = width * r; canvas.height = height * r;
    canvas.style.width = width + "px"; canvas.style.height = height + "px";
    ctx.setTransform(r, 0, 0, r, 0, 0);
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, width, height);
    ctx.font = "12px Helvetica, Arial, sans-serif"; ctx.textBaseline = "middle";
  }
  function labelWidth() {
    ctx.font = "12px Helvetica, Arial, sans-serif";
    var m = 0; tokens.forEach(function (t) { m = Math.max(m, ctx.measureText(t).width); }); return m + 8;
  }

  function drawLines(layer, head) {
    var lw = labelWidth(), row = 20, gap = 160, width = 2 * lw + gap + 20, height = T * row + 20;
    resize(width, height);
    var x0 = 10 + lw, x1 = x0 + gap;
    regions = [];
    for (var i = 0; i < T; i++) {
      if (hover !== null && hover.i !== i) continue;
      for (var j = 0; j < T; j++) {
        var a = w(layer, head, i, j); if (a < 0.01) continue;
        ctx.strokeStyle = "rgba(31,119,180," + a.toFixed(3) + ")"; ctx.lineWidth = 2;
        ctx.beginPath(); ctx.moveTo(x0 + 2, 10 + (i + 0.5) * row); ctx.lineTo(x1 - 2, 10 + (j + 0.5) * row);
        ctx.stroke();
      }
    }
    for (var k = 0; k < T; k++) {
      var y = 10 + (k + 0.5) * row;
      ctx.fillStyle = tokenColor(k);
      ctx.font = (hover !== null && hover.i === k ? "bold " : "") + "12px Helvetica, Arial, sans-serif";
      ctx.textAlign = "right"; ctx.fillText(tokens[k], x0 - 4, y);
      ctx.textAlign = "left"; ctx.fillText(tokens[k], x1 + 4, y);
      regions.push({x: 10, y: y - row / 2, w: lw, h: row, i: k, j: null});
    }
  }

  function drawMatrix(layer, head, left, top, cell, labels) {
    for (var i = 0; i < T; i++) for (var j = 0; j < T; j++) {
      ctx.fillStyle = cellColor(w(layer, head, i, j));
      ctx.fillRect(left + j * cell, top + i * cell, cell, cell);
      if (labels) regions.push({x: left + j * cell, y: top + i * cell, w: cell, h: cell, i: i, j: j,
                                layer: layer, head: head});
    }
    ctx.strokeStyle = "#ccc"; ctx.lineWidth = 1; ctx.strokeRect(left, top, T * cell, T * cell);
    if (DATA.b_start !== null) {
      ctx.strokeStyle = "#d86f00"; ctx.beginPath();
      ctx.moveTo(left + DATA.b_start * cell, top); ctx.lineTo(left + DATA.b_start * cell, top + T * cell);
      ctx.moveTo(left, top + DATA.b_start * cell); ctx.lineTo(left + T * cell, top + DATA.b_start * cell);
      ctx.stroke();
    }
  }

  function drawHeatmap(layer, head) {
    var lw = labelWidth(), cell = 20, width = lw + T * cell + 20, height = lw + T * cell + 20;
    resize(width, height); regions = [];
    var left = lw + 10, top = lw + 10;
    drawMatrix(layer, head, left, top, cell, true);
    for (var k = 0; k < T; k++) {
      ctx.fillStyle = tokenColor(k); ctx.textAlign = "right";
      ctx.fillText(tokens[k], left - 4, top + (k + 0.5) * cell);
      ctx.save(); ctx.translate(left + (k + 0.5) * cell, top - 4); ctx.rotate(-Math.PI / 2);
      ctx.textAlign = "left"; ctx.fillText(tokens[k], 0, 0); ctx.restore();
    }
  }

  function drawSmall(panels, title) {
    var cell = Math.max(2, Math.min(12, Math.floor(160 / T))), size = T * cell, pad = 14;
    resize(panels.length * (size + pad) + pad, size + 44); regions = [];
    panels.forEach(function (p, n) {
      var left = pad + n * (size + pad);
      ctx.fillStyle = "#222"; ctx.textAlign = "left"; ctx.fillText(p.label, left, 14);
      drawMatrix(p.layer, p.head, left, 30, cell, true);
    });
  }

  function draw() {
    var layer = +layerSel.value, head = +headSel.value, view = viewSel.value;
    if (view === "lines") drawLines(layer, head);
    else if (view === "heatmap") drawHeatmap(layer, head);
    else if (view === "layer") {
      var p = []; for (var h = 0; h < N; h++) p.push({layer: layer, head: h, label: "head " + h});
      drawSmall(p);
    } else {
      var q = []; for (var l = 0; l < A; l++) q.push({layer: l, head: head, label: "depth " + l});
      drawSmall(q);
    }
  }

  function describe(r) {
    if (r.j === null) return "";
    var where = r.layer !== undefined ? "layer " + r.layer + ", head " + (r.head < 0 ? "mean" : r.head) + ": " : "";
    return where + tokens[r.i] + " \u2192 " + tokens[r.j] + " = " + w(r.layer, r.head, r.i, r.j).toFixed(3);
  }
  canvas.addEventListener("mousemove", function (e) {
    var box = canvas.getBoundingClientRect(), x = e.clientX - box.left, y = e.clientY - box.top, found = null;
    regions.forEach(function (r) { if (x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h) found = r; });
    if (viewSel.value === "lines") {
      var before = hover; hover = found; if ((before && before.i) !== (found && found.i)) draw();
    } else {
      status.textContent = found ? describe(found) : "";
    }
  });
  canvas.addEventListener("mouseleave", function () { if (hover !== null) { hover = null; draw(); } });
  [layerSel, headSel, viewSel].forEach(function (s) { s.addEventListener("change", function () {
    hover = null; status.textContent = ""; draw(); }); });
  root.querySelector(".save").addEventListener("click", function () {
    var a = document.createElement("a");
    a.download = "attention-layer" + layerSel.value + "-head" + headSel.value + "-" + viewSel.value + ".png";
    a.href = canvas.toDataURL("image/png"); document.body.appendChild(a); a.click(); a.remove();
  });
  draw();
})();
