// Render time of the heaviest webview frames, in headless Chromium (Debian's /usr/bin/chromium):
//   - posterior: the Posterior panel's answer to one request with 10,000 samples of a 4-D
//     Gaussian mean (corner plot of 4 marginals + 6 scatters, the samples again in the data plot,
//     exact posterior contours, summary table); posterior-3000: the same with 3,000 samples, the
//     largest count the panel's Samples control offers;
//   - attention: the Attention panel's example of 64 tokens from compositional attention
//     (2 searches x 4 retrievals): one 64x64 search map per search, the selection and the truth.
// The pages are the host's own HTML and CSP (src/host/panels/webviewHtml.ts) loading the bundles of
// dist/webview; acquireVsCodeApi is faked and the host's messages are posted by hand, with
// synthetic (seeded) data in the shapes of src/protocol/*.ts (as Channel envelopes, or as the
// older { type } messages for a baseline tree from before them).
//
// Work, the figure the 16 ms target applies to: the time the page's main thread is busy between
// window.postMessage(message) and the end of the frame it causes (message serialisation and
// deserialisation, the panel's handler, the canvas flush, style, layout, paint), from a Chromium
// trace (the union of the main thread's top-level tasks in that window). It leaves out the idle
// wait for the next animation frame, which is not rendering.
// Frame time, measured in the page with performance.now(): the same window end to end, i.e. with
// that wait. Headless Chromium runs animation frames at 60 Hz, and messages are posted at phases
// spread over the frame interval (as host messages arrive), so the wait averages about 8 ms: the
// "empty frame" row (a message no panel handles) shows it. Also shown: "handler" (postMessage to the
// end of the panel's handler) and "rAF" (to the next animation frame callback).
//
//   npm run bench:render   (npm run build && node bench/render.mjs [--frames 20] [--warmup 3] [--profile]
//                           [--screenshots DIR] [--baseline DIR])
// --profile: a CPU profile (DevTools protocol) of the frames of each workload, top functions by self time.
// --screenshots DIR: DIR/render-<panel>.png after the last frame.
// --baseline DIR: also the webviews of another source tree (DIR/webview, e.g. a copy before a
//   change), bundled here; each workload runs baseline then current: before and after in one run.
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    frames: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    profile: { type: 'boolean', default: false },
    screenshots: { type: 'string' },
    baseline: { type: 'string' },
  },
});
const FRAMES = Number(args.frames);
const WARMUP = Number(args.warmup);
const TARGET_MS = 16;
const TRACE_CATEGORIES = ['toplevel', 'blink.user_timing'];
const THETA_DIM = 4;
const TOKENS = 64;
const SEARCHES = 2;
const RETRIEVALS = 4;

/** name: [webview bundle, frames(page)]. */
const WORKLOADS = {
  posterior: ['posterior', (page, variant) => posteriorFrames(page, variant, 10_000)],
  'posterior-3000': ['posterior', (page, variant) => posteriorFrames(page, variant, 3000)],
  attention: ['attention', attentionFrames],
  'empty frame': ['attention', emptyFrames],
};
const dist = path.join(root, 'dist/webview');
if (!fs.existsSync(path.join(dist, 'posterior.js'))) throw new Error('dist/webview has no bundles: run `npm run build` first');

const loadStart = os.loadavg();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-render-'));
const { renderWebviewPage, createNonce, THEMES } = await hostModules();
/**
 * Per variant: its asset folder (this tree's dist/webview, or the baseline's bundles), whether its
 * posterior samples are typed, and whether its pages speak Channel envelopes (src/protocol/channel.ts)
 * or the older `{ type }` messages. The workloads write `{ type }` messages; the page script
 * translates both ways for a Channel page.
 */
const variants = {
  ...(args.baseline ? { baseline: { assets: await bundleBaseline(path.resolve(args.baseline)), typedSamples: hasTypedSamples(path.resolve(args.baseline)), channel: speaksChannel(path.resolve(args.baseline)) } } : {}),
  current: { assets: dist, typedSamples: hasTypedSamples(root), channel: speaksChannel(root) },
};
const server = await serve();
const origin = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--disable-gpu', ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])] });
const results = {};
try {
  for (const [name, [bundle, frames]] of Object.entries(WORKLOADS)) {
    for (const variant of Object.keys(variants)) {
      results[variant === 'current' ? name : `${name} (${variant})`] = await measure(variant, name, bundle, (page) => frames(page, variant));
    }
  }
} finally {
  await browser.close();
  server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
const loadEnd = os.loadavg();
report();

// ------------------------------------------------------------------ workloads (run in the page)

/**
 * The host's session and example, then FRAMES answers with `count` samples to the panel's posterior
 * requests. Samples travel as the variant's protocol has them: one Float32Array (SampleMatrix), or,
 * in trees from before it, an array per sample.
 */
async function posteriorFrames(page, variant, count) {
  const rng = random(1);
  const theta = Array.from({ length: THETA_DIM }, () => 2 * normal(rng));
  const points = 100;
  const x = Array.from({ length: points }, () => theta.map((t) => t + normal(rng)));
  // Prior N(0, 1) per coordinate, unit noise: posterior N(sum x / (n + 1), 1 / (n + 1)).
  const mean = theta.map((_, i) => x.reduce((s, row) => s + row[i], 0) / (points + 1));
  const sd = 1 / Math.sqrt(points + 1);
  const draw = (shift, scale) => Array.from({ length: count }, () => mean.map((m) => m + shift + scale * sd * normal(rng)));
  const covariance = mean.map((_, i) => mean.map((__, j) => (i === j ? sd * sd : 0)));
  const task = {
    task: 'posterior-gaussian-mean', model: 'gaussian-mean', xDim: THETA_DIM, target: 'none', classes: 0,
    thetaDim: THETA_DIM, thetaNames: mean.map((_, i) => `μ${i + 1}`), encoder: 'transformer', family: 'gaussian',
    objective: 'forward-kl', hasExact: true, trainedSizes: [64, 127], plot: 'density',
  };
  const asSent = (rows) => (variants[variant].typedSamples ? { count: rows.length, dim: THETA_DIM, values: Float32Array.from(rows.flat()) } : rows);
  const result = {
    step: 2000, points, samples: asSent(draw(0.01, 1.05)),
    network: { mean: mean.map((m) => m + 0.01), std: mean.map(() => 1.05 * sd) },
    exact: { mean, covariance, std: mean.map(() => sd), samples: asSent(draw(0, 1)), symmetricKlPerDim: 0.004 },
    warnings: [], timing: { networkMs: 9.5, totalMs: 14.2 },
  };
  const messages = {
    session: { type: 'session', runId: 'bench-posterior', runName: 'bench posterior', step: 2000, steps: [400, 800, 1200, 1600, 2000] },
    example: { type: 'example', example: { task, index: 0, data: { x }, theta } },
    result,
  };
  return page.evaluate(async ({ messages, count, frames }) => {
    const asked = (type) => new Promise((resolve) => {
      window.__onPost = (m) => m.type === type && resolve(m);
    });
    let request = asked('example');
    window.postMessage(window.__toPage(messages.session), '*');
    await request;
    request = asked('posterior');
    window.postMessage(window.__toPage(messages.example), '*');
    let { requestId } = await request;
    const samplesSelect = document.querySelector('[data-testid="samples-select"]');
    const timings = [];
    for (let i = 0; i < frames; i++) {
      timings.push(await window.__frame({ type: 'posterior', requestId, result: messages.result, workerMs: 12 }));
      const shown = document.querySelector('[data-testid="sample-count"]').textContent;
      if (shown !== String(count)) throw new Error(`the panel shows ${shown} samples`);
      // The next request, as after a user intent (here: the sample count control changed).
      request = asked('posterior');
      samplesSelect.dispatchEvent(new Event('change'));
      ({ requestId } = await request);
    }
    return timings;
  }, { messages, count, frames: WARMUP + FRAMES });
}

/** The host's state (one column), then FRAMES examples of 64 tokens. */
async function attentionFrames(page) {
  const rng = random(2);
  const softmax = (n, sharp) => {
    const e = Array.from({ length: n }, () => Math.exp(sharp * rng()));
    const total = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / total);
  };
  const argmax = (values) => values.indexOf(Math.max(...values));
  const searchMaps = Array.from({ length: SEARCHES }, () => Array.from({ length: TOKENS }, () => softmax(TOKENS, 8)));
  const selection = Array.from({ length: TOKENS }, () => Array.from({ length: SEARCHES }, () => softmax(RETRIEVALS, 4)));
  const pick = (n) => Math.floor(rng() * n);
  const example = {
    split: 'ood', index: 0, step: 2000, tokens: TOKENS, searches: SEARCHES, retrievals: RETRIEVALS,
    searchMaps, selection,
    keyArgmax: Array.from({ length: TOKENS }, (_, t) => searchMaps.map((map) => argmax(map[t]))),
    retrievalArgmax: selection.map((perSearch) => perSearch.map(argmax)),
    output: Array.from({ length: TOKENS }, () => normal(rng)),
    targets: Array.from({ length: TOKENS }, () => normal(rng)),
    truth: {
      searched: Array.from({ length: TOKENS }, () => Array.from({ length: SEARCHES }, () => pick(TOKENS))),
      retrieved: Array.from({ length: TOKENS }, () => Array.from({ length: SEARCHES }, () => pick(RETRIEVALS))),
    },
    truthSearches: SEARCHES, truthRetrievals: RETRIEVALS,
  };
  const runId = 'bench-attention';
  const state = {
    type: 'state',
    columns: [{ runId, runName: 'bench compositional', model: 'compositional-attention', modelDetail: `${SEARCHES} searches x ${RETRIEVALS} retrievals, width 64`, state: 'completed', step: 2000, steps: [500, 1000, 1500, 2000] }],
    splits: ['train', 'ood'],
    selection: { split: 'ood', index: 0, summaryExamples: 64 },
  };
  return page.evaluate(async ({ state, example, runId, frames }) => {
    window.postMessage(window.__toPage(state), '*');
    const timings = [];
    for (let i = 0; i < frames; i++) {
      timings.push(await window.__frame({ type: 'example', runId, example: { ...example, index: i } }));
      const maps = document.querySelectorAll(`[data-testid^="searchmap-${runId}-"]`).length;
      if (maps !== example.searches) throw new Error(`the panel shows ${maps} search maps`);
    }
    return timings;
  }, { state, example, runId, frames: WARMUP + FRAMES });
}

/** Messages the panel ignores: the floor of the measurement (messaging and waiting for the next frame). */
async function emptyFrames(page) {
  return page.evaluate(async (frames) => {
    const timings = [];
    for (let i = 0; i < frames; i++) timings.push(await window.__frame({ type: 'bench-no-op' }));
    return timings;
  }, WARMUP + FRAMES);
}

// ------------------------------------------------------------------ page and timing

/** Opens `bundle`'s page of `variant`, runs `frames(page)`, drops the warm-up frames; with --profile, a CPU profile of the frames. */
async function measure(variant, name, bundle, frames) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, deviceScaleFactor: 1 });
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  await page.addInitScript(pageScript, { vars: THEMES.dark.vars, bodyClass: THEMES.dark.bodyClass, channel: variants[variant].channel });
  await page.goto(`${origin}/${variant}/${bundle}.html`);
  await page.waitForFunction(() => window.__posted.some((m) => m.type === 'ready'));
  const cdp = args.profile ? await page.context().newCDPSession(page) : undefined;
  if (cdp) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
    await cdp.send('Profiler.start');
  }
  await browser.startTracing(page, { categories: TRACE_CATEGORIES });
  await page.evaluate(() => performance.mark('bench-clock'));
  const all = await frames(page);
  const work = mainThreadWork(JSON.parse((await browser.stopTracing()).toString()).traceEvents, all);
  const timings = all.map((t, i) => ({ ...t, work: work[i] })).slice(WARMUP);
  const profile = cdp ? topSelfTime((await cdp.send('Profiler.stop')).profile) : undefined;
  if (problems.length) throw new Error(`${name}: errors in the page:\n${problems.join('\n')}`);
  if (args.screenshots) await page.screenshot({ path: path.join(args.screenshots, `render-${name}${variant === 'current' ? '' : `-${variant}`}.png`), fullPage: true });
  await page.close();
  const stat = (key) => ({ median: quantile(timings.map((t) => t[key]), 0.5), p90: quantile(timings.map((t) => t[key]), 0.9) });
  return { frame: stat('frame'), work: stat('work'), handler: stat('handler'), raf: stat('raf'), profile };
}

/**
 * Per frame, the time the page's main thread was busy between the frame's start and end (page
 * clock, as __frame reports them): the union of its top-level tasks in the trace, clipped to the
 * frame. This is the frame's work (handler, canvas flush, style, layout, paint) without the idle
 * wait for the next animation frame, which the frame time includes. The mark 'bench-clock' ties
 * the page's clock to the trace's (to its 0.1 ms resolution).
 */
function mainThreadWork(events, frames) {
  const clock = events.find((e) => e.cat === 'blink.user_timing' && e.name === 'bench-clock');
  if (!clock) throw new Error('the trace has no bench-clock mark');
  const toTrace = (pageMs) => clock.ts + (pageMs - clock.args.data.startTime) * 1000;
  const tasks = events
    .filter((e) => e.ph === 'X' && e.pid === clock.pid && e.tid === clock.tid && e.cat.split(',').includes('toplevel'))
    .map((e) => [e.ts, e.ts + e.dur])
    .sort((a, b) => a[0] - b[0]);
  return frames.map((frame) => {
    const [start, end] = [toTrace(frame.start), toTrace(frame.end)];
    let busy = 0;
    let covered = start;
    for (const [from, to] of tasks) {
      const a = Math.max(from, covered);
      const b = Math.min(to, end);
      if (b > a) {
        busy += b - a;
        covered = b;
      }
    }
    return busy / 1000;
  });
}

/**
 * Runs before the page's scripts: the fake VS Code API (records what the page posts), the dark
 * theme's variables, and __frame(message): posts a host message and times the frame it causes.
 * For a Channel page (`channel`), what it posts is read as `{ type: method, ...params }` (a request
 * with `requestId`: its id), and a `{ type }` message to it becomes a notification, or the reply
 * to request `requestId` (the rest of the message is the reply).
 */
function pageScript({ vars, bodyClass, channel }) {
  const fromPage = (m) => (channel && m?.kind === 'request' ? { type: m.method, requestId: m.id, ...m.params } : channel && m?.kind === 'notification' ? { type: m.method, ...m.params } : m);
  window.__toPage = (message) => {
    if (!channel) return message;
    const { type, requestId, ...rest } = message;
    return requestId !== undefined ? { kind: 'reply', id: requestId, result: rest } : { kind: 'notification', method: type, params: rest };
  };
  window.__posted = [];
  window.acquireVsCodeApi = () => ({
    postMessage: (posted) => {
      const m = fromPage(posted);
      window.__posted.push(m);
      window.__onPost?.(m);
    },
    getState: () => undefined,
    setState: () => {},
  });
  // As VS Code does: the theme is set before the page's scripts run, once <html> and <body> exist.
  const theme = new MutationObserver(() => {
    if (!document.documentElement || !document.body) return;
    for (const [name, value] of Object.entries(vars)) document.documentElement.style.setProperty(name, value);
    document.body.classList.add(bodyClass);
    theme.disconnect();
  });
  theme.observe(document, { childList: true, subtree: true });
  let posted = 0;
  window.__frame = (message) => new Promise((resolve) => {
    // Host messages arrive anywhere in the frame interval: post at phases spread over 0-16 ms
    // after an animation frame (a golden-ratio sequence), not always right after one.
    const phase = ((posted++ * 0.618034) % 1) * 16;
    requestAnimationFrame(() => setTimeout(() => post(message, resolve), phase));
  });
  function post(message, resolve) {
    const start = performance.now();
    // Added after the panel's own listener, so it runs once the panel has handled the message.
    const handled = () => {
      window.removeEventListener('message', handled);
      const handler = performance.now() - start;
      requestAnimationFrame(() => {
        const raf = performance.now() - start;
        // A task queued in the frame's callbacks runs after its style, layout and paint.
        const channel = new MessageChannel();
        channel.port1.onmessage = () => {
          const end = performance.now();
          resolve({ handler, raf, frame: end - start, start, end });
        };
        channel.port2.postMessage(undefined);
      });
    };
    window.addEventListener('message', handled);
    window.postMessage(window.__toPage(message), '*');
  }
}

/** The 8 functions with the most self time in a DevTools CPU profile, in ms. */
function topSelfTime(profile) {
  const self = new Map();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'} ${url ? `${path.basename(url)}:${lineNumber + 1}` : ''}`.trim();
    self.set(key, (self.get(key) ?? 0) + profile.timeDeltas[i] / 1000);
  });
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, 8);
}

// ------------------------------------------------------------------ host side

/** renderWebviewPage (the host's HTML and CSP) and the harness's theme variables, bundled for Node. */
async function hostModules() {
  const out = await esbuild.build({
    stdin: {
      contents: "export { renderWebviewPage, createNonce } from './src/host/panels/webviewHtml';\nexport { THEMES } from './test/harness/themes';",
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true, platform: 'node', format: 'cjs', write: false, logLevel: 'warning',
  });
  const file = path.join(tmp, 'host.cjs');
  fs.writeFileSync(file, out.outputFiles[0].text);
  return createRequire(import.meta.url)(file);
}

/** The baseline tree's posterior and attention webviews, bundled like scripts/build.mjs does, beside this tree's shared assets. */
async function bundleBaseline(tree) {
  const out = path.join(tmp, 'baseline');
  await esbuild.build({
    entryPoints: Object.fromEntries(Object.values(WORKLOADS).map(([bundle]) => [bundle, path.join(tree, `webview/${bundle}/main.ts`)])),
    nodePaths: [path.join(root, 'node_modules')],
    bundle: true, platform: 'browser', target: 'es2022', format: 'esm', loader: { '.css': 'css' }, logLevel: 'warning',
    outdir: out,
  });
  for (const file of ['elements.js', 'codicon.css', 'codicon.ttf', 'uPlot.min.css']) fs.copyFileSync(path.join(dist, file), path.join(out, file));
  return out;
}

function speaksChannel(tree) {
  return fs.existsSync(path.join(tree, 'webview/common/channel.ts'));
}

function hasTypedSamples(tree) {
  return ['src/core/posterior/sampleMatrix.ts', 'src/shared/sampleMatrix.ts'].some((file) => fs.existsSync(path.join(tree, file)));
}

/** /<variant>/<bundle>.html: the page the host writes into the webview; /<variant>/assets/*: its bundles. */
async function serve() {
  const types = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf' };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname === '/favicon.ico') return void res.writeHead(204).end();
    const [, variant, rest] = /^\/(\w+)\/(.*)$/.exec(url.pathname) ?? [];
    const page = /^(\w+)\.html$/.exec(rest ?? '');
    if (variants[variant] && page) {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(renderWebviewPage({ cspSource: origin, nonce: createNonce(), title: page[1], bundle: page[1], assetUri: (f) => `${origin}/${variant}/assets/${f}` }));
      return;
    }
    const file = variants[variant] && rest.startsWith('assets/') ? path.join(variants[variant].assets, path.basename(rest)) : undefined;
    if (!file || !fs.existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
    res.end(fs.readFileSync(file));
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  return server;
}

// ------------------------------------------------------------------ numbers

/** Small LCG: the same data every run. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 2 ** 32;
  };
}

function normal(rng) {
  return Math.sqrt(-2 * Math.log(rng())) * Math.cos(2 * Math.PI * rng());
}

/** Nearest-rank quantile. */
function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

function report() {
  const ms = (v) => v.toFixed(1);
  console.log(`Chromium ${browser.version()} (headless, --disable-gpu), ${os.cpus().length} cores; load average ${loadStart.map((l) => l.toFixed(2)).join(' ')} at start, ${loadEnd.map((l) => l.toFixed(2)).join(' ')} at end`);
  console.log(`${FRAMES} frames per workload after ${WARMUP} warm-up frames; target: frame under ${TARGET_MS} ms\n`);
  console.log('| workload | work median ms | work p90 ms | frame median ms | frame p90 ms | handler median ms | rAF median ms | work under target |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [name, r] of Object.entries(results)) {
    console.log(`| ${name} | ${ms(r.work.median)} | ${ms(r.work.p90)} | ${ms(r.frame.median)} | ${ms(r.frame.p90)} | ${ms(r.handler.median)} | ${ms(r.raf.median)} | ${r.work.median < TARGET_MS ? 'yes' : 'no'} |`);
  }
  for (const [name, r] of Object.entries(results)) {
    if (!r.profile) continue;
    console.log(`\n${name}: self time over ${WARMUP + FRAMES} frames (CPU profile)`);
    for (const [fn, t] of r.profile) console.log(`  ${ms(t).padStart(8)} ms  ${fn}`);
  }
  const frames = Object.fromEntries(Object.entries(results).map(([name, r]) => [name, { work_median_ms: round(r.work.median), work_p90_ms: round(r.work.p90), median_ms: round(r.frame.median), p90_ms: round(r.frame.p90) }]));
  console.log(`\n${JSON.stringify({ frames })}`);
}

function round(v) {
  return Math.round(v * 100) / 100;
}
