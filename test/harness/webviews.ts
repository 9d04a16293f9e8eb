/**
 * Renders the dashboard, Live and runs table webviews in headless Chromium, outside VS Code: the page is the
 * one the host builds (same HTML and CSP, from src/host/webviewHtml.ts), acquireVsCodeApi is
 * faked, theme variables are set like VS Code sets them, and the host's messages are posted by
 * hand. Writes screenshots and checks what an e2e test relies on (data-testid attributes,
 * messages to the host, no CSP violation).
 *
 *   node --import tsx test/harness/webviews.ts [outDir]     (default /tmp/model-lab-harness)
 * Needs /usr/bin/chromium (Debian package `chromium`).
 */
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import type { Envelope, Notification } from '../../src/protocol/channel';
import type { FromDashboardPage, ToDashboardPage } from '../../src/protocol/dashboard';
import type { FromLivePage, ToLivePage } from '../../src/protocol/live';
import type { FromRunsTablePage, RunsTableRow, ToRunsTablePage } from '../../src/protocol/runsTable';
import { createNonce, renderWebviewPage } from '../../src/host/panels/webviewHtml';
import { fakeAttentionMiniature, fakeBackend, fakeMetrics, fakePosteriorMiniature, fakeSamplerMiniature, fakeSimilarityMiniature, twoRunState } from './fakeData';
import { THEMES } from './themes';

/** A page's notifications written flat, `{ type: method, ...params }`, as the checks below read them. */
type Flat<N> = { [K in keyof N & string]: { type: K } & (N[K] extends Notification<infer P> ? P : never) }[keyof N & string];
type ToPage = Flat<ToDashboardPage['notifications']> | Flat<ToLivePage['notifications']> | Flat<ToRunsTablePage['notifications']>;
type FromPage = Flat<FromDashboardPage['notifications']> | Flat<FromLivePage['notifications']> | Flat<FromRunsTablePage['notifications']>;

// The package is CommonJS: no top-level await.
async function main(): Promise<void> {
  const root = resolve(__dirname, '../..');
  const outDir = resolve(process.argv[2] ?? '/tmp/model-lab-harness');
  const assets = join(outDir, 'assets');
  mkdirSync(assets, { recursive: true });

  await esbuild.build({
    entryPoints: { dashboard: join(root, 'webview/dashboard/main.ts'), live: join(root, 'webview/live/main.ts'), runsTable: join(root, 'webview/runsTable/main.ts') },
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'esm',
    outdir: assets,
    loader: { '.css': 'css' },
    logLevel: 'warning',
  });
  for (const [from, to] of [
    ['node_modules/@vscode-elements/elements/dist/bundled.js', 'elements.js'],
    ['node_modules/@vscode/codicons/dist/codicon.css', 'codicon.css'],
    ['node_modules/@vscode/codicons/dist/codicon.ttf', 'codicon.ttf'],
    ['node_modules/uplot/dist/uPlot.min.css', 'uPlot.min.css'],
  ]) copyFileSync(join(root, from), join(assets, to));

  const types: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.html': 'text/html' };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname === '/favicon.ico') return void res.writeHead(204).end();
    const page = /^\/(dashboard|live|runsTable)\.html$/.exec(url.pathname);
    if (page) {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(renderWebviewPage({ cspSource: origin, nonce: createNonce(), title: page[1], bundle: page[1], assetUri: (f) => `${origin}/assets/${f}` }));
      return;
    }
    try {
      const file = join(assets, url.pathname.replace(/^\/assets\//, '').replace(/\.\./g, ''));
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });

  const failures: string[] = [];
  function check(condition: boolean, what: string): void {
    console.log(`${condition ? 'ok  ' : 'FAIL'} ${what}`);
    if (!condition) failures.push(what);
  }

  async function openView(view: 'dashboard' | 'live' | 'runsTable', theme: keyof typeof THEMES, size: { width: number; height: number }): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport: size, deviceScaleFactor: 1 });
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    const { bodyClass, vars } = THEMES[theme];
    // A string, not a function: tsx would wrap functions with a __name helper the page lacks.
    // VS Code sets the theme before the page's scripts run; so does this, as soon as the
    // <html> and <body> elements exist.
    await page.addInitScript(`
      window.__posted = [];
      window.__csp = [];
      window.acquireVsCodeApi = () => ({
        postMessage: (m) => window.__posted.push(m),
        getState: () => window.__state,
        setState: (s) => { window.__state = s; },
      });
      document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
      const vars = ${JSON.stringify(vars)};
      let themed = false;
      const applyTheme = () => {
        if (!themed && document.documentElement) {
          for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
          themed = true;
        }
        if (document.body && !document.body.classList.contains(${JSON.stringify(bodyClass)})) {
          document.body.classList.add(${JSON.stringify(bodyClass)});
          observer.disconnect();
        }
      };
      const observer = new MutationObserver(applyTheme);
      observer.observe(document, { childList: true, subtree: true });
    `);
    await page.goto(`${origin}/${view}.html`);
    await page
      .waitForFunction(() => ((window as unknown as { __posted: { method?: string }[] }).__posted ?? []).some((m) => m.method === 'ready'), undefined, { timeout: 10_000 })
      .catch(async (error: Error) => {
        throw new Error(`${view} never said ready: ${error.message}\n${problems.join('\n')}\nCSP: ${JSON.stringify(await cspViolations(page))}`);
      });
    return { page, problems };
  }

  /** Posts what the host would: the notification `message.type` as a Channel envelope. */
  const send = (page: Page, message: ToPage) => {
    const { type, ...params } = message;
    const envelope: Envelope = { kind: 'notification', method: type, params };
    return page.evaluate((m) => window.postMessage(m, '*'), envelope);
  };
  /** Pixels of a canvas drawn in the theme colour `cssVar` (e.g. a run's line or markers). */
  const colourPixels = (page: Page, canvas: string, cssVar: string) =>
    page.$eval(canvas, (element, name) => {
      const probe = document.createElement('canvas').getContext('2d')!;
      probe.fillStyle = getComputedStyle(document.body).getPropertyValue(name).trim();
      const hex = String(probe.fillStyle);
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      const c = element as HTMLCanvasElement;
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let count = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 200 && Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 40) count++;
      }
      return count;
    }, cssVar);
  /** The page's notifications so far, flat. */
  const posted = async (page: Page): Promise<FromPage[]> => {
    const envelopes = await page.evaluate(() => (window as unknown as { __posted: Envelope[] }).__posted);
    return envelopes.flatMap((e) => (e.kind === 'notification' ? [{ type: e.method, ...(e.params as object) } as FromPage] : []));
  };
  const settle = (page: Page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  async function cspViolations(page: Page): Promise<string[]> {
    return page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);
  }
  const shots: string[] = [];
  async function shoot(page: Page, name: string): Promise<void> {
    const file = join(outDir, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    shots.push(file);
  }

  // ------------------------------------------------------------------ dashboard

  const state = twoRunState();
  const [running, done] = state.runs; // b (newest, running), a (completed)
  for (const theme of Object.keys(THEMES)) {
    const { page, problems } = await openView('dashboard', theme, { width: 1200, height: 900 });
    await send(page, state);
    await page.waitForSelector('[data-testid="chart-train/loss"] canvas');
    await settle(page);
    await page.waitForTimeout(300); // web fonts (codicons) and Lit elements
    await shoot(page, `dashboard-${theme}`);
    check((await cspViolations(page)).length === 0, `dashboard/${theme}: no CSP violation ${JSON.stringify(await cspViolations(page))}`);
    check(problems.length === 0, `dashboard/${theme}: no console error ${JSON.stringify(problems)}`);

    if (theme !== 'dark') {
      await page.close();
      continue;
    }
    // Test hooks agree with the data.
    const lossOf = (id: string) => state.metrics[id].filter((r) => 'train/loss' in r.values);
    const chartPoints = await page.getAttribute('[data-testid="chart-train/loss"]', 'data-points');
    check(chartPoints === String(lossOf(running.id).length), `chart-train/loss data-points = newest run's points (${chartPoints})`);
    for (const run of [running, done]) {
      const sel = `[data-testid="series-${run.id}-train/loss"]`;
      const last = lossOf(run.id).at(-1)!.values['train/loss'];
      check((await page.getAttribute(sel, 'data-points')) === String(lossOf(run.id).length), `${sel} data-points`);
      check((await page.getAttribute(sel, 'data-last')) === String(last), `${sel} data-last = ${last}`);
    }
    const charts = await page.$$eval('[data-testid^="chart-"]', (els) => els.map((e) => e.getAttribute('data-testid')));
    check(JSON.stringify(charts) === JSON.stringify(['chart-train/loss', 'chart-eval/id/l1', 'chart-eval/ood/l1']), `one chart per metric, loss first: ${charts}`);

    // Live increments extend the running run.
    const more = fakeMetrics(2, 700, 0.8).filter((r) => r.step > running.step);
    await send(page, { type: 'metrics', runId: running.id, records: more });
    await send(page, { type: 'runStatus', run: { ...running, step: 700 } });
    await settle(page);
    const expected = lossOf(running.id).length + more.filter((r) => 'train/loss' in r.values).length;
    check((await page.getAttribute('[data-testid="chart-train/loss"]', 'data-points')) === String(expected), `streamed metrics extend the series to ${expected} points`);

    // Intents reach the host.
    await page.click('#export-csv');
    await page.click('[data-testid="chart-train/loss"] >> xpath=.. >> vscode-button');
    await page.click(`[data-testid="run-${running.id}"] vscode-button`);
    const messages = await posted(page);
    check(messages.some((m) => m.type === 'exportCsv'), 'Export CSV posts exportCsv');
    const image = messages.find((m) => m.type === 'saveImage');
    check(image?.type === 'saveImage' && image.data.startsWith('data:image/png;base64,') && image.name === 'train/loss', 'Save PNG posts a PNG data URL');
    if (image?.type === 'saveImage') {
      const file = join(outDir, 'exported-train-loss.png');
      writeFileSync(file, Buffer.from(image.data.split(',')[1], 'base64'));
      shots.push(file);
    }
    check(messages.some((m) => m.type === 'stopRun' && m.runId === running.id), 'Stop posts stopRun for the running run');

    // Smoothing is persisted with the shown run ids (used to restore the panel).
    await page.fill('#smoothing-range', '0.9');
    await page.dispatchEvent('#smoothing-range', 'input');
    await settle(page);
    const saved = await page.evaluate(() => (window as unknown as { __state: { smoothing: number; runIds: string[] } }).__state);
    check(saved.smoothing === 0.9 && saved.runIds.length === 2, `setState keeps smoothing and run ids ${JSON.stringify(saved)}`);
    await page.locator('#params').scrollIntoViewIfNeeded();
    await shoot(page, 'dashboard-dark-smoothed');

    // Overlay: two ticked metrics of both runs in one chart, a legend per curve, kept in setState.
    await page.click('[data-testid="overlay-toggle-train/loss"]');
    await page.click('[data-testid="overlay-toggle-eval/ood/l1"]');
    await page.waitForSelector('[data-testid="overlay-card"] [data-testid="chart-overlay"] canvas');
    await settle(page);
    const legend = await page.$$eval('[data-testid="overlay-legend"] li', (els) => els.map((e) => e.textContent ?? ''));
    check(legend.length === 4 && legend.every((l) => / · (train\/loss|eval\/ood\/l1)$/.test(l)), `overlay legend: run · metric for 2 runs x 2 metrics ${JSON.stringify(legend)}`);
    const overlayState = await page.evaluate(() => (window as unknown as { __state: { overlay?: string[] } }).__state.overlay);
    check(JSON.stringify(overlayState) === JSON.stringify(['train/loss', 'eval/ood/l1']), `setState keeps the overlay ${JSON.stringify(overlayState)}`);
    await page.locator('[data-testid="overlay-card"]').scrollIntoViewIfNeeded();
    await shoot(page, 'dashboard-dark-overlay');

    // Keyboard: controls are reachable with Tab.
    await page.click('h1'); // moves the sequential focus starting point to the top
    const focusable: string[] = [];
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Tab');
      focusable.push(await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName.toLowerCase() || ''));
    }
    check(focusable.includes('smoothing-range') && focusable.includes('export-csv'), `Tab reaches the controls: ${focusable.join(', ')}`);
    await page.close();
  }

  // A run folder deleted while the panel is open: the host resends the state without it and an error.
  {
    const { page } = await openView('dashboard', 'dark', { width: 1000, height: 500 });
    await send(page, { ...state, runs: [done], metrics: { [done.id]: state.metrics[done.id] } });
    await send(page, { type: 'error', message: `Run "${running.name}" (${running.id}) is no longer available: its folder was deleted or cannot be read.` });
    await settle(page);
    check((await page.textContent('#messages'))?.includes('no longer available') === true, 'deleted run: message shown');
    await shoot(page, 'dashboard-run-deleted');
    await page.close();
  }

  // ------------------------------------------------------------------ live view

  for (const theme of ['dark', 'light'] as const) {
    const { page, problems } = await openView('live', theme, { width: 320, height: 640 });
    await send(page, { type: 'state', runs: [running], metrics: { [running.id]: state.metrics[running.id] }, specs: {}, backends: { [running.id]: fakeBackend } });
    await page.waitForSelector('[data-testid="chart-train/loss"] canvas');
    await settle(page);
    await page.waitForTimeout(300);
    await shoot(page, `live-${theme}`);
    check((await cspViolations(page)).length === 0, `live/${theme}: no CSP violation`);
    check(problems.length === 0, `live/${theme}: no console error ${JSON.stringify(problems)}`);
    if (theme === 'dark') {
      await page.getByText('Open Dashboard').click();
      const messages = await posted(page);
      check(messages.some((m) => m.type === 'openDashboard' && m.runId === running.id), 'Open Dashboard posts openDashboard with the run id');
      // When the run ends, Stop gives way to nothing (completed) or Resume (cancelled).
      await send(page, { type: 'runStatus', run: { ...running, state: 'cancelled' } });
      await settle(page);
      const visible = await page.$$eval('.actions vscode-button', (els) => els.filter((e) => !(e as HTMLElement).hidden).map((e) => e.textContent?.trim()));
      check(JSON.stringify(visible) === JSON.stringify(['Open Dashboard', 'Resume']), `cancelled run shows Resume, not Stop: ${visible}`);
      check(await page.$eval('#lab-miniature', (e) => (e as HTMLElement).hidden), 'lab miniature slot is empty and hidden');
    }
    await page.close();
  }
  // A run that logged its loss once: a single point, which uPlot's line alone would not draw.
  {
    const { page } = await openView('live', 'dark', { width: 320, height: 400 });
    const first = fakeMetrics(3, 10, 1);
    await send(page, { type: 'state', runs: [{ ...running, step: 10 }], metrics: { [running.id]: first }, specs: {} });
    await page.waitForSelector('[data-testid="chart-train/loss"] canvas');
    await settle(page);
    const marked = await colourPixels(page, '[data-testid="chart-train/loss"] canvas', '--vscode-charts-blue');
    check(marked >= 9, `a one-point series is drawn as a marker (${marked} pixels in the run colour)`);
    await shoot(page, 'live-one-point');
    // A long curve stays a plain line: its markers would hide the shape.
    await send(page, { type: 'metrics', runId: running.id, records: fakeMetrics(3, 600, 1).slice(1) });
    await settle(page);
    const points = Number(await page.getAttribute('[data-testid="chart-train/loss"]', 'data-points'));
    check(points > 20, `the series grew to ${points} points`);
    await page.close();
  }

  // Lab miniatures: one per lab, hidden again when the host says there is none.
  for (const theme of ['dark', 'light'] as const) {
    const { page, problems } = await openView('live', theme, { width: 300, height: 760 });
    const done700 = { ...done, state: 'completed' as const };
    await send(page, { type: 'state', runs: [done700], metrics: { [done.id]: state.metrics[done.id] }, specs: {} });
    await page.waitForSelector('[data-testid="chart-train/loss"] canvas');
    for (const miniature of [fakeAttentionMiniature(done.id, 1000), fakePosteriorMiniature(done.id, 1000), fakeSimilarityMiniature(done.id, 1000), fakeSamplerMiniature(done.id, 1000)]) {
      const kind = miniature.picture.kind;
      if (theme === 'light' && kind !== 'attention') continue;
      await send(page, { type: 'miniature', runId: done.id, miniature });
      await settle(page);
      const slot = page.locator('[data-testid="live-lab-miniature"]');
      check(await slot.isVisible(), `${theme}/${kind}: the miniature is shown`);
      check((await slot.getAttribute('data-kind')) === kind && (await slot.getAttribute('data-step')) === '1000', `${theme}/${kind}: data-kind and data-step`);
      check((await page.textContent('[data-testid="live-lab-miniature-caption"]')) === miniature.caption, `${theme}/${kind}: caption "${miniature.caption}"`);
      const drawn = await colourPixels(page, '[data-testid="live-lab-miniature"] canvas', '--vscode-charts-blue');
      check(drawn > 50, `${theme}/${kind}: the picture is drawn in the first chart colour (${drawn} pixels)`);
      await page.locator('[data-testid="live-lab-miniature"]').scrollIntoViewIfNeeded();
      await shoot(page, `live-miniature-${kind}-${theme}`);
    }
    check((await cspViolations(page)).length === 0, `live miniature/${theme}: no CSP violation`);
    check(problems.length === 0, `live miniature/${theme}: no console error ${JSON.stringify(problems)}`);
    if (theme === 'dark') {
      await page.click('[data-testid="live-open-lab"]');
      const opened = (await posted(page)).find((m) => m.type === 'openLab');
      check(opened?.type === 'openLab' && opened.runId === done.id, `the miniature's button posts openLab for the run (${JSON.stringify(opened)})`);
      // Another run shown: the old miniature goes; a miniature for another run is ignored.
      await send(page, { type: 'state', runs: [running], metrics: { [running.id]: state.metrics[running.id] }, specs: {} });
      await settle(page);
      check(await page.$eval('#lab-miniature', (e) => (e as HTMLElement).hidden), 'a new shown run hides the previous run\'s miniature');
      await send(page, { type: 'miniature', runId: done.id, miniature: fakeAttentionMiniature(done.id, 1000) });
      await settle(page);
      check(await page.$eval('#lab-miniature', (e) => (e as HTMLElement).hidden), 'a miniature of a run not shown stays hidden');
      await send(page, { type: 'miniature', runId: running.id, miniature: fakeAttentionMiniature(running.id, 500) });
      await settle(page);
      check(!(await page.$eval('#lab-miniature', (e) => (e as HTMLElement).hidden)), 'the shown run\'s miniature appears');
      await send(page, { type: 'miniature', runId: running.id });
      await settle(page);
      check(await page.$eval('#lab-miniature', (e) => (e as HTMLElement).hidden), 'no miniature: the slot is hidden again (no placeholder)');
    }
    await page.close();
  }

  {
    const { page } = await openView('live', 'dark', { width: 320, height: 240 });
    await send(page, { type: 'state', runs: [], metrics: {}, specs: {} });
    await settle(page);
    await shoot(page, 'live-empty');
    await page.close();
  }

  // ------------------------------------------------------------------ runs table

  // A sweep of three learning rates and an unrelated run without the held-out metric.
  const tableRow = (id: string, learningRate: number, heldOut: number | undefined, state: RunsTableRow['state'] = 'completed'): RunsTableRow => ({
    id, name: `sweep ${id}`, lab: 'Compositional attention', experiment: 'sweep', state, step: 300, totalSteps: 300,
    createdAt: `2026-01-01T00:00:0${id.length % 10}.000Z`, durationMs: 12_000,
    metrics: { 'train/loss': 0.5 + learningRate, ...(heldOut === undefined ? {} : { 'eval/ood/l1': heldOut }) },
    spec: { name: 'sweep', seed: 0, model: { name: 'multi-head-attention' }, training: { learningRate, optimizer: 'adam' } },
  });
  const tableRows = [tableRow('lr-a', 0.0003, 0.71), tableRow('lr-bb', 0.003, 0.64), tableRow('lr-ccc', 0.03, 0.9, 'failed'), tableRow('other', 0.001, undefined, 'running')];
  for (const theme of Object.keys(THEMES)) {
    const { page, problems } = await openView('runsTable', theme, { width: 1100, height: 900 });
    await send(page, { type: 'rows', rows: tableRows });
    await page.waitForSelector('[data-testid="row-lr-a"]');
    await settle(page);
    await page.waitForTimeout(300); // web fonts (codicons) and Lit elements
    await shoot(page, `runs-table-${theme}`);
    check((await page.$$('[data-testid^="row-"]')).length === 4, `runs table/${theme}: a row per run`);
    await page.click('[data-testid="tab-hparams"]');
    await page.waitForSelector('[data-testid="hparams-parallel"]');
    await settle(page);
    check((await page.$$('[data-testid^="scatter-point-"]')).length === 3, `runs table/${theme}: a point per run with the metric (${(await page.$$('[data-testid^="scatter-point-"]')).length})`);
    check((await page.textContent('[data-testid="scatter-x-title"]')) === 'training.learningRate (log)', `runs table/${theme}: the learning rate over 100x on a log axis`);
    await shoot(page, `runs-table-hparams-${theme}`);
    check((await cspViolations(page)).length === 0, `runs table/${theme}: no CSP violation ${JSON.stringify(await cspViolations(page))}`);
    check(problems.length === 0, `runs table/${theme}: no console error ${JSON.stringify(problems)}`);
    if (theme === 'dark') {
      // A live change of one row moves it in the sort; ticking two rows and Overlay posts their ids.
      await page.click('[data-testid="tab-table"]');
      await page.click('[data-testid="header-metric:eval/ood/l1"] button');
      const order = () => page.$$eval('[data-testid^="row-"]', (els) => els.map((e) => e.getAttribute('data-testid')));
      check(JSON.stringify(await order()) === JSON.stringify(['row-lr-ccc', 'row-lr-a', 'row-lr-bb', 'row-other']), `sorted by eval/ood/l1, highest first, missing last: ${await order()}`);
      await send(page, { type: 'changedRows', rows: [tableRow('lr-bb', 0.003, 0.95)] });
      await settle(page);
      check((await order())[0] === 'row-lr-bb', `a changed row takes its place in the sort: ${await order()}`);
      await page.click('[data-testid="select-lr-a"]');
      await page.click('[data-testid="select-lr-bb"]');
      await page.click('[data-testid="overlay-button"]');
      const overlay = (await posted(page)).find((m) => m.type === 'overlay') as { runIds?: string[] } | undefined;
      check(JSON.stringify([...(overlay?.runIds ?? [])].sort()) === JSON.stringify(['lr-a', 'lr-bb']), `Overlay posts the ticked runs: ${JSON.stringify(overlay)}`);
      await page.locator('[data-testid="filter"] input').fill('train/loss > fast');
      await settle(page);
      check(/characters 14-17: expected a number/.test((await page.textContent('[data-testid="filter-error"]')) ?? ''), 'a bad filter is located');
      await shoot(page, 'runs-table-filter-error');
    }
    await page.close();
  }

  await browser.close();
  server.close();
  console.log(`\nscreenshots:\n${shots.join('\n')}`);
  if (failures.length) {
    console.error(`\n${failures.length} check(s) failed`);
    process.exit(1);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
