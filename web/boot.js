// boot.js starts the engine: it defines window.attnscope with its ready promise, then fetches and
// runs attnscope.wasm (through wasm_exec.js, which must be loaded first). The wasm fills in the API.
(function () {
  'use strict';
  const script = document.currentScript;
  const wasmURL = (script && script.dataset.wasm) || 'attnscope.wasm';
  let resolveReady, rejectReady;
  const api = {
    ready: new Promise((resolve, reject) => { resolveReady = resolve; rejectReady = reject; }),
  };
  api._resolveReady = () => {
    api.readyMs = performance.now();
    resolveReady(api);
  };
  // The engine's synchronous functions return {attnscopeError} rather than throwing (a panic
  // would stop the engine): these throw it as an Error.
  const checked = (name) => (...args) => {
    const r = api['_' + name](...args);
    if (r && typeof r === 'object' && typeof r.attnscopeError === 'string') throw new Error(r.attnscopeError);
    return r;
  };
  api.show = checked('show');
  api.trace = checked('trace');
  window.attnscope = api;

  async function boot() {
    if (typeof Go !== 'function') {
      throw new Error('wasm_exec.js did not load, so the engine cannot start');
    }
    if (typeof WebAssembly !== 'object') {
      throw new Error('this browser has no WebAssembly');
    }
    const go = new Go();
    let result;
    try {
      result = await WebAssembly.instantiateStreaming(fetch(wasmURL), go.importObject);
    } catch (streamErr) {
      // A static host may send the wasm with another content type: instantiate from bytes.
      const resp = await fetch(wasmURL);
      if (!resp.ok) {
        throw new Error('could not download ' + wasmURL + ' (HTTP ' + resp.status + '): build it with make wasm');
      }
      result = await WebAssembly.instantiate(await resp.arrayBuffer(), go.importObject);
    }
    go.run(result.instance).then(() => rejectReady(new Error('the engine stopped')));
  }
  boot().catch((err) => rejectReady(err instanceof Error ? err : new Error(String(err))));
})();
