// The llama.cpp side of make bench-native-peer: native llama.cpp (the CPU build that npm's
// node-llama-cpp ships prebuilt) timed the way attnscope bench times the engine.
//
//   node bench/native/peer.mjs --modules DIR [--threads "1 2"] [--runs 3] [--prompt 128] [--gen 64] MODEL.gguf...
//
// DIR is the folder whose node_modules holds node-llama-cpp (scripts/bench-native-peer.sh
// installs it into .build/node-llama-cpp/VERSION). --threads and --runs default to BENCH_THREADS
// and BENCH_RUNS. For every model and thread count it prints one JSON line on stdout:
//
//   {"engine":"llama.cpp","version":…,"binding":…,"cpu_variant":…,"model":…,"threads":…,
//    "pp_tok_s":…,"tg_tok_s":…,"pp_wall_tok_s":…,"tg_wall_tok_s":…,"timing":…,
//    "flash_attention":…,"kv_cache":…,…}
//
// The context is node-llama-cpp's default but for its size, batch (the whole prompt) and threads:
// flash attention "auto" (llama.cpp reports what it chose) and an F16 KV cache (llama-bench's
// default too). node-llama-cpp calls llama_synchronize right after each llama_decode.
//
// One run: the sequence's KV cache is cleared, the prompt (token ids, no text: BOS then ids spread
// over the vocabulary) is evaluated in one batch with logits for its last token only, then gen
// tokens are generated greedily, one decode each with logits (the output layer runs for every
// token, as in attnscope bench and llama-bench's tg). One warm-up run, then the medians of --runs.
//
// pp_tok_s and tg_tok_s come from llama.cpp's own counters (llama_perf_context: the time of the
// prompt's decode, and of the single-token decodes, each measured from the start of llama_decode to
// the end of its computation), read after every run from the context's timing report. They leave
// out what node-llama-cpp adds around each decode (its batch queue, promises, the hand-over to and
// from its worker thread, sampling in a second native call), which is not llama.cpp's speed: on
// s15m Q8_0 with one thread that overhead was about 0.3 ms per generated token, ~15% of tg,
// on a quiet machine, and more when other work competes for the cores.
// pp_wall_tok_s and tg_wall_tok_s are the same runs timed in JavaScript (prompt: until the first
// generated token is in hand; generation: the next gen tokens), overhead included. When the
// timing report cannot be read, pp_tok_s/tg_tok_s fall back to the wall-clock figures and
// "timing" says "wall" instead of "llama_perf".
import fs from "node:fs";
import path from "node:path";
import {createRequire} from "node:module";
import {pathToFileURL} from "node:url";

function usage(msg) {
	if (msg) console.error(`peer.mjs: ${msg}`);
	console.error('usage: node bench/native/peer.mjs --modules DIR [--threads "1 2"] [--runs N] [--prompt N] [--gen N] MODEL.gguf...');
	process.exit(2);
}

function parseArgs(argv) {
	const o = {
		modules: "",
		threads: process.env.BENCH_THREADS || "1 2",
		runs: process.env.BENCH_RUNS || "3",
		prompt: "128",
		gen: "64",
		models: [],
	};
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a === "-h" || a === "--help") usage();
		if (!a.startsWith("--")) {
			o.models.push(a);
			continue;
		}
		const key = a.slice(2);
		if (!(key in o) || key === "models") usage(`unknown flag ${a}`);
		if (i + 1 >= argv.length) usage(`${a} needs a value`);
		o[key] = argv[++i];
	}
	const count = (name, s, min) => {
		const n = Number(s);
		if (!Number.isInteger(n) || n < min) usage(`--${name} ${JSON.stringify(s)}: want a whole number ≥ ${min}`);
		return n;
	};
	o.threads = o.threads.trim().split(/[\s,]+/).map((t) => count("threads", t, 1));
	o.runs = count("runs", o.runs, 1);
	o.prompt = count("prompt", o.prompt, 2);
	o.gen = count("gen", o.gen, 1);
	if (!o.modules) usage("--modules is required");
	if (o.models.length === 0) usage("no model files");
	return o;
}

// loadBinding imports node-llama-cpp from DIR/node_modules and reads its version.
async function loadBinding(dir) {
	const req = createRequire(path.join(path.resolve(dir), "package.json"));
	let entry;
	try {
		entry = req.resolve("node-llama-cpp");
	} catch (err) {
		throw new Error(`${dir}: node-llama-cpp is not installed there (${err.message})`);
	}
	// The package's exports hide its package.json: find it above the entry point.
	let pkgFile = path.dirname(entry);
	while (!fs.existsSync(path.join(pkgFile, "package.json")) && path.dirname(pkgFile) !== pkgFile) pkgFile = path.dirname(pkgFile);
	pkgFile = path.join(pkgFile, "package.json");
	const mod = await import(pathToFileURL(entry).href);
	const version = JSON.parse(fs.readFileSync(pkgFile, "utf8")).version;
	return {mod, version};
}

// cpuVariant names the ggml CPU library the process mapped (libggml-cpu-haswell.so → "haswell"):
// the prebuilt package carries one per instruction-set level and ggml picks the best at load time.
function cpuVariant() {
	let maps;
	try {
		maps = fs.readFileSync("/proc/self/maps", "utf8");
	} catch {
		return null;
	}
	const found = new Set();
	for (const m of maps.matchAll(/libggml-cpu-?([A-Za-z0-9_]*)\.so/g)) found.add(m[1] || "cpu");
	return found.size ? [...found].sort().join(",") : null;
}

// promptIDs: BOS (when the model has one) then ids spread over the vocabulary, n in all.
function promptIDs(model, n) {
	const vocab = model.fileInfo?.metadata?.tokenizer?.ggml?.tokens?.length || 256;
	const ids = [];
	if (model.tokens.bos != null) ids.push(model.tokens.bos);
	for (let i = 0; ids.length < n; i++) ids.push(3 + ((i * 7919) % (vocab - 3)));
	return ids;
}

const median = (xs) => {
	const s = [...xs].sort((a, b) => a - b);
	const h = s.length >> 1;
	return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};
const now = () => Number(process.hrtime.bigint()) / 1e9;

// Perf collects what llama.cpp logs: its timing reports, and how a new context was set up.
class Perf {
	constructor() {
		this.lines = [];
		this.setup = [];
	}
	log(line) {
		if (line.includes("llama_perf_context_print")) this.lines.push(line);
		else this.setup.push(line);
	}
	// contextSetup reads from the log since the last call how llama.cpp resolved flash attention
	// (node-llama-cpp's default asks for "auto") and which types the KV cache holds.
	contextSetup() {
		const text = this.setup.join("");
		this.setup = [];
		const fa = /Flash Attention (enabled|disabled)/i.exec(text);
		const k = /K \(([a-z0-9_]+)\)/.exec(text), v = /V \(([a-z0-9_]+)\)/.exec(text);
		return {flash: fa ? fa[1].toLowerCase() : null, kv: k && v ? `${k[1]}/${v[1]}` : null};
	}
	// read asks the context for its report (which also restarts llama.cpp's counters) and parses
	// it: {pp: [ms, tokens], tg: [ms, runs]}, or null when the report did not arrive.
	async read(ctx) {
		this.lines = [];
		await ctx.printTimings();
		for (let wait = 0; wait < 50 && !this.parse(); wait++) await new Promise((r) => setTimeout(r, 10));
		return this.parse();
	}
	parse() {
		const text = this.lines.join("\n");
		const pp = /prompt eval time\s*=\s*([\d.]+)\s*ms\s*\/\s*(\d+)\s*tokens/.exec(text);
		const tg = /[^t] eval time\s*=\s*([\d.]+)\s*ms\s*\/\s*(\d+)\s*runs/.exec(text);
		if (!pp || !tg) return null;
		return {pp: [Number(pp[1]), Number(pp[2])], tg: [Number(tg[1]), Number(tg[2])]};
	}
}

// run is one measurement: wall-clock rates and llama.cpp's own (null when unreadable).
async function run(seq, ctx, perf, prompt, gen) {
	await seq.clearHistory();
	await perf.read(ctx); // restart llama.cpp's counters
	let n = 0, t1 = 0;
	const t0 = now();
	for await (const _ of seq.evaluate(prompt, {temperature: 0})) {
		if (n++ === 0) t1 = now();
		if (n === gen + 1) break;
	}
	const t2 = now();
	if (n !== gen + 1) throw new Error(`generation stopped after ${n} of ${gen + 1} tokens`);
	const r = {ppWall: prompt.length / (t1 - t0), tgWall: gen / (t2 - t1), pp: null, tg: null};
	const p = await perf.read(ctx);
	// The prompt is one decode of prompt.length tokens and the generation gen single-token decodes;
	// anything else means the report is not what we think it is.
	if (p && p.pp[1] === prompt.length && p.tg[1] === gen && p.pp[0] > 0 && p.tg[0] > 0) {
		r.pp = (p.pp[1] * 1000) / p.pp[0];
		r.tg = (p.tg[1] * 1000) / p.tg[0];
	}
	return r;
}

async function main() {
	const o = parseArgs(process.argv.slice(2));
	const {mod, version: bindingVersion} = await loadBinding(o.modules);
	const perf = new Perf();
	const llama = await mod.getLlama({
		gpu: false,
		build: "never",
		logLevel: mod.LlamaLogLevel.info,
		logger: (level, message) => {
			perf.log(message);
			if (level === mod.LlamaLogLevel.error || level === mod.LlamaLogLevel.fatal || level === mod.LlamaLogLevel.warn)
				process.stderr.write(`llama.cpp: ${message.trimEnd()}\n`);
		},
	});
	const release = llama.llamaCppRelease?.release ?? null;
	for (const file of o.models) {
		if (!fs.existsSync(file)) throw new Error(`${file}: no such file`);
		const model = await llama.loadModel({modelPath: file});
		const prompt = promptIDs(model, o.prompt);
		for (const threads of o.threads) {
			perf.contextSetup();
			const ctx = await model.createContext({
				contextSize: Math.max(256, o.prompt + o.gen + 1),
				batchSize: o.prompt,
				threads: {ideal: threads, min: threads},
				performanceTracking: true,
			});
			const setup = perf.contextSetup();
			const seq = ctx.getSequence();
			await run(seq, ctx, perf, prompt, o.gen); // warm-up
			const rs = [];
			for (let i = 0; i < o.runs; i++) rs.push(await run(seq, ctx, perf, prompt, o.gen));
			const own = rs.every((r) => r.pp != null);
			const pick = (k) => median(rs.map((r) => r[k]));
			const round = (x) => Math.round(x * 10) / 10;
			const out = {
				engine: "llama.cpp",
				version: release,
				binding: `node-llama-cpp ${bindingVersion}`,
				cpu_variant: cpuVariant(),
				model: file,
				threads,
				pp_tok_s: round(own ? pick("pp") : pick("ppWall")),
				tg_tok_s: round(own ? pick("tg") : pick("tgWall")),
				pp_wall_tok_s: round(pick("ppWall")),
				tg_wall_tok_s: round(pick("tgWall")),
				timing: own ? "llama_perf" : "wall",
				prompt_tokens: o.prompt,
				gen_tokens: o.gen,
				runs: o.runs,
				flash_attention: setup.flash ?? String(ctx.flashAttention),
				kv_cache: setup.kv,
				system_info: llama.systemInfo.trim(),
			};
			console.log(JSON.stringify(out));
			await ctx.dispose();
		}
		await model.dispose();
	}
	await llama.dispose();
}

main().catch((err) => {
	console.error(`peer.mjs: ${err?.message ?? err}`);
	process.exit(1);
});
