// The 'ready' watchdog of Model Lab's webviews (src/host/panels/webviewHtml.ts): a visible page that
// never says 'ready' is written again, with growing patience, and only a bounded number of times.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { WebviewPageLoader } from '../../src/host/panels/webviewHtml';

let visible: boolean;
let renders: number;
let reloads: [number, number][];

function loader(): WebviewPageLoader {
  return new WebviewPageLoader({
    render: () => (renders += 1),
    isVisible: () => visible,
    onReload: (reload, waitedMs) => reloads.push([reload, waitedMs]),
    timeoutsMs: [100, 200],
  });
}

beforeEach(() => {
  visible = true;
  renders = 0;
  reloads = [];
  mock.timers.enable({ apis: ['setTimeout'] });
});
afterEach(() => mock.timers.reset());

test('a page that says ready in time is written once', () => {
  const page = loader();
  page.load();
  assert.equal(renders, 1);
  assert.equal(page.ready, false);
  mock.timers.tick(50);
  page.markReady();
  assert.equal(page.ready, true);
  mock.timers.tick(10_000);
  assert.equal(renders, 1);
  assert.deepEqual(reloads, []);
});

test('a silent visible page is written again after each timeout, then left alone', () => {
  const page = loader();
  page.load();
  mock.timers.tick(99);
  assert.equal(renders, 1);
  mock.timers.tick(1);
  assert.equal(renders, 2);
  mock.timers.tick(199);
  assert.equal(renders, 2);
  mock.timers.tick(1);
  assert.equal(renders, 3);
  mock.timers.tick(10_000);
  assert.equal(renders, 3, 'no more reloads than timeouts');
  assert.deepEqual(reloads, [[1, 100], [2, 200]]);
  page.markReady(); // a late 'ready' still counts
  assert.equal(page.ready, true);
});

test('a hidden page is not reloaded; shown again it gets the full patience anew', () => {
  const page = loader();
  visible = false;
  page.load();
  mock.timers.tick(1_000);
  assert.equal(renders, 1, 'nothing loads while hidden');
  visible = true;
  page.visibilityChanged();
  mock.timers.tick(100);
  assert.equal(renders, 2);
  page.markReady();

  // Hiding tears the page down: not ready until it says so again.
  visible = false;
  page.visibilityChanged();
  assert.equal(page.ready, false);
  visible = true;
  page.visibilityChanged();
  mock.timers.tick(100);
  assert.equal(renders, 3);
  assert.deepEqual(reloads, [[1, 100], [1, 100]]);
});

test('a view-state event without a visibility change keeps a ready page ready', () => {
  const page = loader();
  page.load();
  page.markReady();
  page.visibilityChanged(); // e.g. the panel became active; it was visible already
  assert.equal(page.ready, true);
  mock.timers.tick(10_000);
  assert.equal(renders, 1);
});

test('dispose stops the watchdog', () => {
  const page = loader();
  page.load();
  page.dispose();
  mock.timers.tick(10_000);
  assert.equal(renders, 1);
  assert.equal(page.ready, false);
});
