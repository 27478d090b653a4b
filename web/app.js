// app.js drives the page around the engine (window.attnscope): model picker, text and
// generation controls, view switcher, hover read-out. embed.html uses the same file and takes
// its state from the URL hash. Everything shown that came from a user, a file or the hash is set
// as text (textContent), never as HTML.
(function () {
  'use strict';
  const api = window.attnscope;
  const $ = (id) => document.getElementById(id);
  const page = document.body.dataset.page;
  const canvas = $('view');
  const statusEl = $('status');
  const errorEl = $('error');
  const hoverEl = $('hover');
  // DEFAULT_MODEL is opened at start when models/index.json lists it.
  const DEFAULT_MODEL = 'english';

  function setStatus(text) { if (statusEl) statusEl.textContent = text; }
  function showError(err) {
    const msg = err ? (err.message || String(err)) : '';
    errorEl.textContent = msg;
    if (msg) console.warn('attnscope:', msg);
  }
  function formatBytes(n) {
    const units = ['B', 'KiB', 'MiB', 'GiB'];
    let u = 0;
    while (n >= 1024 && u < units.length - 1) { n /= 1024; u++; }
    return (u === 0 ? n : n.toFixed(1)) + ' ' + units[u];
  }

  // Hover and click on the picture: the canvas may be scaled down by CSS.
  function canvasPoint(ev) {
    const r = canvas.getBoundingClientRect();
    return [Math.floor((ev.clientX - r.left) * canvas.width / r.width),
            Math.floor((ev.clientY - r.top) * canvas.height / r.height)];
  }
  function describe(hit) {
    switch (hit.kind) {
      case 'cell':
        return 'L' + hit.layer + ' H' + hit.head + '  ' + JSON.stringify(hit.from) + ' (' + hit.query + ') → ' +
          JSON.stringify(hit.to) + ' (' + hit.key + ')  p = ' + hit.p.toPrecision(6) +
          (typeof hit.logp === 'number' ? '  ln p = ' + hit.logp.toPrecision(6) : '');
      case 'thumb': return 'layer ' + hit.layer + ', head ' + hit.head + ' — click to open';
      case 'row': return 'token ' + hit.query + ' ' + JSON.stringify(hit.from) + ' — click to pin';
    }
    return '';
  }

  let onShow = () => {};
  function show(view, opts) {
    try {
      const st = api.show(view, opts || {});
      onShow(st);
      showError(null);
      return st;
    } catch (err) {
      showError(err);
      return null;
    }
  }

  // Zoom (wheel, buttons) and scroll (drag) of the head view: the engine keeps the view transform;
  // the page asks for a zoom and the tokens to centre on.
  const ZOOM_STEP = 1.5;
  function zoomBy(factor, hit) {
    const st = api.state();
    if (st.view !== 'head') return;
    const z = Math.min(Math.max((st.zoom || 1) * factor, 1), 256);
    const w = st.window;
    const opts = { zoom: z };
    if (hit && hit.kind === 'cell') { opts.focusQuery = hit.query; opts.focusKey = hit.key; }
    else if (w) { opts.focusQuery = (w[0] + w[1]) >> 1; opts.focusKey = (w[2] + w[3]) >> 1; }
    if (z === 1) { opts.focusQuery = -1; opts.focusKey = -1; }
    show('head', opts);
  }
  let drag = null;

  function wireCanvas() {
    api.attach(canvas);
    canvas.addEventListener('mousemove', (ev) => {
      const [x, y] = canvasPoint(ev);
      const hit = api.at(x, y);
      hoverEl.textContent = describe(hit);
      if (drag && hit.kind === 'cell' && (hit.query !== drag.hit.query || hit.key !== drag.hit.key)) {
        // Keep the grabbed cell under the pointer: move the window's centre the other way.
        const w = drag.window;
        const cq = ((w[0] + w[1]) >> 1) - (hit.query - drag.hit.query);
        const ck = ((w[2] + w[3]) >> 1) - (hit.key - drag.hit.key);
        drag.moved = true;
        const st = show('head', { focusQuery: Math.max(cq, 0), focusKey: Math.max(ck, 0) });
        if (st) { drag.window = st.window; drag.hit = api.at(x, y); }
      }
    });
    canvas.addEventListener('mousedown', (ev) => {
      const st = api.state();
      if (st.view !== 'head' || !(st.zoom > 1)) return;
      const [x, y] = canvasPoint(ev);
      const hit = api.at(x, y);
      if (hit.kind !== 'cell') return;
      drag = { hit: hit, window: st.window, moved: false };
      canvas.classList.add('grab');
      ev.preventDefault();
    });
    window.addEventListener('mouseup', () => { canvas.classList.remove('grab'); setTimeout(() => { drag = null; }, 0); });
    canvas.addEventListener('wheel', (ev) => {
      if (api.state().view !== 'head' || ev.deltaY === 0) return;
      ev.preventDefault();
      const [x, y] = canvasPoint(ev);
      zoomBy(ev.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP, api.at(x, y));
    }, { passive: false });
    canvas.addEventListener('mouseleave', () => { hoverEl.textContent = ''; });
    canvas.addEventListener('click', (ev) => {
      if (drag && drag.moved) return;
      const [x, y] = canvasPoint(ev);
      const hit = api.at(x, y);
      const st = api.state();
      if (hit.kind === 'thumb') show('head', { layer: hit.layer, head: hit.head, token: -1 });
      else if (hit.kind === 'cell') show(st.view, { token: st.token === hit.query ? -1 : hit.query });
      else if (hit.kind === 'row') show(st.view, { token: st.token === hit.query ? -1 : hit.query });
    });
  }

  function startApp() {
    const facts = $('facts');
    const progress = $('progress');
    const runBtn = $('run');
    const stopBtn = $('stop');
    const output = $('output');
    const viewSel = $('view-select');
    for (const v of api.views) {
      const o = document.createElement('option');
      o.value = v;
      o.textContent = v;
      viewSel.appendChild(o);
    }
    const num = (id) => Number($(id).value);
    onShow = (st) => {
      document.body.dataset.view = st.view;
      viewSel.value = st.view;
      $('layer').value = st.layer;
      $('head').value = st.head;
      $('token').value = st.token;
      $('values').value = st.values || 'probs';
      $('all-heads').checked = Array.isArray(st.heads) && st.heads.length > 1;
      for (const [id, n] of [['pos', st.nPos], ['dim', st.nDim]]) {
        $(id).max = Math.max((n || 1) - 1, 0);
        $(id).value = st[id];
        $(id + '-out').textContent = String(st[id]);
      }
    };
    // Keep the controls in step with whatever drew the picture (the page, a click, the JS API).
    canvas.addEventListener('attnscope-drawn', () => onShow(api.state()));
    const applyView = () => show(viewSel.value, {
      layer: num('layer'), head: num('head'), token: num('token'), values: $('values').value,
      heads: $('all-heads').checked ? 'all' : null, pos: num('pos'), dim: num('dim'),
    });
    for (const id of ['view-select', 'layer', 'head', 'token', 'values', 'all-heads']) $(id).addEventListener('change', applyView);
    for (const id of ['pos', 'dim']) $(id).addEventListener('input', applyView);
    $('zoom-in').addEventListener('click', () => zoomBy(ZOOM_STEP));
    $('zoom-out').addEventListener('click', () => zoomBy(1 / ZOOM_STEP));
    $('zoom-reset').addEventListener('click', () => show('head', { zoom: 1, focusQuery: -1, focusKey: -1 }));

    function showFacts(info) {
      facts.textContent = '';
      const rows = [['architecture', info.arch], ['name', info.name || '—'], ['layers', info.nLayer],
        ['heads', info.nHead], ['KV heads', info.nKVHead], ['context', info.nCtx], ['vocabulary', info.nVocab],
        ['positions', info.positional], ['weights', info.quant], ['size', formatBytes(info.bytes)]];
      for (const [k, v] of rows) {
        const dt = document.createElement('dt');
        dt.textContent = k;
        const dd = document.createElement('dd');
        dd.textContent = String(v);
        facts.append(dt, dd);
      }
      $('layer').max = info.nLayer - 1;
      $('head').max = info.nHead - 1;
    }

    window.addEventListener('attnscope-loaded', () => { const i = api.info(); if (i) showFacts(i); });

    let busy = false;
    function setBusy(b, running) {
      busy = b;
      runBtn.disabled = b || !api.info();
      stopBtn.disabled = !running;
      for (const id of ['load-shipped', 'load-url', 'file']) $(id).disabled = b;
    }

    async function load(src, label) {
      if (busy) return;
      showError(null);
      setBusy(true, false);
      setStatus('loading ' + label + '…');
      progress.hidden = typeof src !== 'string';
      progress.removeAttribute('value');
      try {
        const info = await api.loadModel(src, {
          onProgress: (got, total) => {
            if (total > 0) { progress.max = total; progress.value = got; }
            setStatus('loading ' + label + ': ' + formatBytes(got) + (total > 0 ? ' of ' + formatBytes(total) : ''));
          },
        });
        showFacts(info);
        setStatus('loaded ' + label + ' — type a text and press Run');
      } catch (err) {
        showError(err);
        setStatus(api.info() ? 'the previous model is still loaded' : 'no model loaded');
      } finally {
        progress.hidden = true;
        setBusy(false, false);
      }
    }

    $('file').addEventListener('change', (ev) => {
      const f = ev.target.files && ev.target.files[0];
      if (f) load(f, f.name);
    });
    $('load-url').addEventListener('click', () => {
      const raw = $('url').value.trim();
      let u;
      try { u = new URL(raw, location.href); } catch (e) { showError(new Error('not a URL: ' + raw)); return; }
      if (u.protocol !== 'https:' && u.protocol !== 'http:') { showError(new Error('use an http(s) URL')); return; }
      load(u.href, u.href);
    });
    $('load-shipped').addEventListener('click', () => {
      const v = $('shipped').value;
      if (v) load(v, v);
    });
    document.addEventListener('dragover', (ev) => { ev.preventDefault(); document.body.classList.add('dragging'); });
    document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
    document.addEventListener('drop', (ev) => {
      ev.preventDefault();
      document.body.classList.remove('dragging');
      const f = ev.dataTransfer && ev.dataTransfer.files && ev.dataTransfer.files[0];
      if (f) load(f, f.name);
    });

    runBtn.addEventListener('click', async () => {
      if (busy) return;
      showError(null);
      setBusy(true, true);
      output.textContent = '';
      const t0 = performance.now();
      let n = 0;
      try {
        const res = await api.run($('prompt').value, {
          maxTokens: num('max-tokens'), temperature: num('temperature'), topK: num('top-k'), seed: num('seed'),
          onToken: (id, piece) => { n++; output.textContent += piece; },
        });
        const secs = (performance.now() - t0) / 1000;
        setStatus(res.promptTokens.length + ' prompt tokens, ' + res.generated.length + ' generated in ' + secs.toFixed(2) + ' s' +
          (res.decodeSeconds > 0 ? ' (' + (res.generated.length / res.decodeSeconds).toFixed(1) + ' tokens/s)' : '') +
          (res.stopped ? ' — stopped' : ''));
        applyView();
      } catch (err) {
        showError(err);
      } finally {
        setBusy(false, false);
      }
    });
    stopBtn.addEventListener('click', () => api.stop());
    $('export').addEventListener('click', async () => {
      try {
        const blob = await api.exportPNG();
        const a = document.createElement('a');
        a.href = URL.createObjectURL(blob);
        a.download = 'attnscope-' + api.state().view + '.png';
        a.click();
        setTimeout(() => URL.revokeObjectURL(a.href), 10000);
      } catch (err) { showError(err); }
    });

    // The served model list; when it has the English model, the page opens it by default.
    api.modelList = fetch('models/index.json').then((r) => (r.ok ? r.json() : [])).then((list) => {
      if (!Array.isArray(list) || list.length === 0) return null;
      const sel = $('shipped');
      sel.textContent = '';
      let english = null;
      for (const m of list) {
        if (!m || typeof m.name !== 'string' || typeof m.url !== 'string') continue;
        const o = document.createElement('option');
        o.value = m.url;
        o.textContent = m.name + (typeof m.bytes === 'number' ? ' (' + formatBytes(m.bytes) + ')' : '');
        sel.appendChild(o);
        if (!english && m.name.replace(/\.gguf$/i, '').toLowerCase() === DEFAULT_MODEL) english = m;
      }
      if (!english) return null;
      sel.value = english.url;
      return load(english.url, english.name).then(() => english.name);
    }).catch(() => null);
    setBusy(false, false);
    setStatus('ready — pick a model');
  }

  // embed.html: #model=URL&text=…&view=…&layer=…&head=…&token=…&maxTokens=…&values=…&heads=all
  async function startEmbed() {
    const p = new URLSearchParams(location.hash.replace(/^#/, ''));
    const int = (name, lo, hi, def) => {
      const raw = p.get(name);
      if (raw === null || raw === '') return def;
      if (!/^-?\d{1,5}$/.test(raw)) throw new Error(name + ' must be a whole number');
      const v = Number(raw);
      if (v < lo || v > hi) throw new Error(name + ' must be between ' + lo + ' and ' + hi);
      return v;
    };
    const model = p.get('model');
    const text = p.get('text') || 'Once upon a time';
    const view = p.get('view') || 'head';
    if (!model) throw new Error('no model: add #model=URL to the address');
    const u = new URL(model, location.href);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('the model URL must be http(s)');
    if (text.length > 4096) throw new Error('the text is longer than 4096 characters');
    if (!api.views.includes(view)) throw new Error('unknown view: ' + view);
    const layer = int('layer', 0, 4096, 0);
    const head = int('head', 0, 4096, 0);
    const token = int('token', -1, 100000, -1);
    const maxTokens = int('maxTokens', 0, 256, 0);
    const values = p.get('values') || 'probs';
    if (values !== 'probs' && values !== 'logprobs') throw new Error('values must be probs or logprobs');
    const heads = p.get('heads');
    if (heads !== null && heads !== 'all') throw new Error('heads must be all');
    setStatus('loading the model…');
    await api.loadModel(u.href, { onProgress: (got) => setStatus('loading the model: ' + formatBytes(got)) });
    setStatus('running…');
    await api.run(text, { maxTokens: maxTokens, temperature: 0 });
    if (!show(view, { layer: layer, head: head, token: token, values: values, heads: heads === 'all' ? 'all' : null })) return;
    setStatus('');
  }

  api.ready.then(() => {
    wireCanvas();
    if (page === 'embed') {
      window.addEventListener('hashchange', () => location.reload());
      startEmbed().catch((err) => { showError(err); setStatus(''); });
    } else {
      startApp();
    }
  }, (err) => {
    setStatus('the engine did not start');
    showError(err);
  });
})();
