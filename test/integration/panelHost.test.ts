// The one panel lifecycle (src/host/panels/panelHost.ts) driven against a small fake of the
// `vscode` API (test/helpers/fakeVscode.ts) with a fixture lab: its manifest's panel entry, a
// provider, and a page that talks through the real Channel as webview pages do. Create, reveal,
// revive, ready -> full replay (also after the page was torn down while hidden), and dispose.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Channel, type Notification, type Request } from '../../src/protocol/channel';
import { PanelHost, type PanelContext, type PanelController, type PanelProvider } from '../../src/host/panels/panelHost';
import { FakeWindow, fakeUri, type FakeWebviewPanel } from '../helpers/fakeVscode';
import type * as vscode from 'vscode';
import type { LabManifest } from '../../src/core/labManifest';

// ------------------------------------------------------------------ the fixture lab

/** The fixture lab's manifest: its panel entry gives the provider its view type and first title. */
const fixtureManifest = {
  id: 'fixture',
  title: 'Fixture lab',
  description: 'A lab that exists only in this test.',
  tasks: [],
  models: [],
  objectives: [],
  panel: { viewType: 'modelLab.fixture', title: 'Fixture', command: 'modelLab.openFixture' },
  commands: [{ id: 'modelLab.openFixture', title: 'Open Fixture', icon: 'beaker', menus: [] }],
  templates: { prefix: 'fixture-', label: 'Fixture' },
  runContext: 'fixture',
  hasLearned: () => ({ verdict: 'unknown', reason: 'a fixture learns nothing' }),
} as const satisfies LabManifest;

interface FixtureTarget {
  runId: string;
}

/** Host -> page. */
interface ToFixturePage {
  requests: Record<string, never>;
  notifications: { state: Notification<{ runId: string; counter: number; readies: number }> };
}
/** Page -> host. */
interface FromFixturePage {
  requests: { double: Request<{ n: number }, number> };
  notifications: { ready: Notification<Record<string, never>>; increment: Notification<{ by: number }> };
}

/** Every controller the provider made, to look inside. */
const controllers: FixtureController[] = [];

class FixtureController implements PanelController {
  counter = 0;
  readies = 0;
  disposed = false;
  constructor(
    readonly target: FixtureTarget,
    private readonly panel: PanelContext<FixtureTarget, ToFixturePage, FromFixturePage>,
  ) {
    controllers.push(this);
    panel.setTitle(`Fixture: ${target.runId}`);
    panel.page.channel.onRequest('double', ({ n }) => 2 * n);
    panel.page.channel.onNotification('increment', ({ by }) => this.increment(by));
  }
  onReady(): void {
    this.readies += 1;
    this.sendState();
  }
  /** Host-side change (e.g. a new metric); reaches the page only while it listens. */
  increment(by: number): void {
    this.counter += by;
    this.sendState();
  }
  dispose(): void {
    this.disposed = true;
  }
  private sendState(): void {
    this.panel.page.channel.notify('state', { runId: this.target.runId, counter: this.counter, readies: this.readies });
  }
}

const fixtureProvider: PanelProvider<FixtureTarget, ToFixturePage, FromFixturePage> = {
  viewType: fixtureManifest.panel.viewType,
  title: fixtureManifest.panel.title,
  page: { bundle: 'fixture', title: 'Fixture page', name: 'Fixture panel' },
  targetFromState: (state) => {
    const runId = (state as { runId?: unknown } | undefined)?.runId;
    return typeof runId === 'string' ? { runId } : undefined;
  },
  keyOf: (target) => target.runId,
  create: (target, panel) => new FixtureController(target, panel),
};

/**
 * The fixture's webview page: loads whenever HTML is written into a visible panel or a hidden
 * panel is shown again (VS Code keeps no document for a hidden webview), listens through a
 * Channel, says 'ready', shows the last state it got and saves it (setState) as pages do.
 */
class FixturePage {
  channel: Channel<FromFixturePage, ToFixturePage> | undefined;
  loads = 0;
  shown: { runId: string; counter: number; readies: number } | undefined;
  savedState: unknown;
  private loading: Promise<void> = Promise.resolve();

  constructor(private readonly panel: FakeWebviewPanel) {
    panel.webview.onHtml = () => {
      if (panel.visible) this.load();
    };
    panel.onVisibility = (visible) => (visible && panel.webview.html ? this.load() : this.tearDown());
  }

  /** Resolves when the page has loaded and said 'ready'. */
  loaded(): Promise<void> {
    return this.loading;
  }

  private load(): void {
    this.tearDown();
    // A browser runs the page's script after the HTML is set, not within the setter.
    this.loading = Promise.resolve().then(() => {
      const webview = this.panel.webview;
      const channel = new Channel<FromFixturePage, ToFixturePage>({
        post: (envelope) => webview.fromPage.fire(structuredClone(envelope)),
        onReceive: (listener) => webview.toPage.event(listener),
      });
      channel.onNotification('state', (state) => {
        this.shown = state;
        this.savedState = { runId: state.runId };
      });
      this.channel = channel;
      this.loads += 1;
      channel.notify('ready', {});
    });
  }

  private tearDown(): void {
    this.channel?.dispose();
    this.channel = undefined;
    this.shown = undefined;
  }
}

// ------------------------------------------------------------------ the rig

function rig() {
  controllers.length = 0;
  const window = new FakeWindow();
  const pages = new Map<FakeWebviewPanel, FixturePage>();
  window.onPanel = (panel) => pages.set(panel, new FixturePage(panel));
  const logged: string[] = [];
  const host = new PanelHost(fixtureProvider, {
    window: window.asWindow,
    extensionUri: fakeUri('/ext') as unknown as vscode.Uri,
    log: (level, message) => logged.push(`${level}: ${message}`),
  });
  const registration = host.register();
  const pageOf = (panel: FakeWebviewPanel) => pages.get(panel)!;
  return { window, host, registration, pageOf, logged };
}

// ------------------------------------------------------------------ the lifecycle

test('show creates a panel of the manifest view type, loads the page and replays the state on ready', async () => {
  const { window, host, pageOf, logged } = rig();
  host.show({ runId: 'a' });
  assert.equal(window.panels.length, 1);
  const panel = window.panels[0];
  assert.equal(panel.viewType, 'modelLab.fixture');
  assert.equal(panel.title, 'Fixture: a', 'the controller names the tab');
  assert.deepEqual(panel.webview.options.localResourceRoots?.map(String), ['fake-resource:/ext/dist/webview']);
  assert.equal(panel.webview.htmlWrites.length, 1);
  assert.match(panel.webview.html, /fixture\.js/);
  assert.match(panel.webview.html, /script-src 'nonce-/);
  assert.equal(panel.webview.posted.length, 0, 'nothing is posted before the page says ready');

  const page = pageOf(panel);
  await page.loaded();
  assert.deepEqual(page.shown, { runId: 'a', counter: 0, readies: 1 });
  assert.equal(await page.channel!.request('double', { n: 21 }), 42, 'page requests reach the controller and its reply comes back');
  page.channel!.notify('increment', { by: 2 });
  assert.deepEqual(page.shown, { runId: 'a', counter: 2, readies: 1 }, 'a change while the page listens is posted at once');
  assert.deepEqual(host.targets(), [{ runId: 'a' }]);
  assert.deepEqual(logged, []);
});

test('a second show of the same target reveals the open panel; another target gets its own', async () => {
  const { window, host } = rig();
  host.show({ runId: 'a' });
  window.panels[0].hide();
  host.show({ runId: 'a' });
  assert.equal(window.panels.length, 1, 'not duplicated');
  assert.equal(window.panels[0].reveals, 1);
  assert.equal(controllers.length, 1);
  host.show({ runId: 'b' });
  assert.equal(window.panels.length, 2);
  assert.deepEqual(host.targets(), [{ runId: 'a' }, { runId: 'b' }]);
});

test('a page torn down while hidden gets nothing posted, then the full state on its next ready', async () => {
  const { window, host, pageOf } = rig();
  host.show({ runId: 'a' });
  const panel = window.panels[0];
  const page = pageOf(panel);
  await page.loaded();
  const postedBefore = panel.webview.posted.length;

  panel.hide();
  controllers[0].increment(5); // e.g. metrics arrive while another tab is in front
  controllers[0].increment(1);
  assert.equal(panel.webview.posted.length, postedBefore, 'post-when-ready: nothing posted to a torn-down page');

  host.show({ runId: 'a' }); // reveal: the page loads anew from its HTML and says ready again
  await page.loaded();
  assert.equal(page.loads, 2);
  assert.equal(panel.webview.htmlWrites.length, 1, 'the page reloads from the same HTML, not rewritten');
  assert.deepEqual(page.shown, { runId: 'a', counter: 6, readies: 2 }, 'the second ready replays the full state');
});

test('after a reload the serializer revives a panel from the state its page saved', async () => {
  const first = rig();
  first.host.show({ runId: 'c' });
  const page = first.pageOf(first.window.panels[0]);
  await page.loaded();
  const saved = page.savedState;
  assert.deepEqual(saved, { runId: 'c' });

  // A new window: a fresh host registers its serializer, VS Code hands the panel back.
  const { window, host, pageOf } = rig();
  assert.ok(window.serializers.has('modelLab.fixture'));
  const revived = await window.restore('modelLab.fixture', saved);
  assert.equal(controllers.length, 1);
  assert.deepEqual(controllers[0].target, { runId: 'c' });
  assert.equal(revived.title, 'Fixture: c');
  await pageOf(revived).loaded();
  assert.deepEqual(pageOf(revived).shown, { runId: 'c', counter: 0, readies: 1 });

  host.show({ runId: 'c' });
  assert.equal(window.panels.length, 1, 'show reveals the revived panel');
  assert.equal(revived.reveals, 1);

  const broken = await window.restore('modelLab.fixture', { runId: 42 });
  assert.equal(broken.disposed, true, 'a state without a target closes the restored panel');
  assert.equal(controllers.length, 1);
  assert.deepEqual(host.targets(), [{ runId: 'c' }]);
});

test('closing a panel disposes its controller, page and listeners and empties the open set', async () => {
  const { window, host, pageOf, registration } = rig();
  host.show({ runId: 'a' });
  host.show({ runId: 'b' });
  const [a, b] = window.panels;
  await pageOf(a).loaded();
  const pending = pageOf(a).channel!.request('double', { n: 1 });
  assert.equal(await pending, 2);
  assert.ok(a.liveListeners > 0);

  a.dispose();
  assert.equal(controllers[0].disposed, true);
  assert.equal(controllers[1].disposed, false);
  assert.equal(a.liveListeners, 0, 'no listener left on the closed panel or its webview');
  assert.deepEqual(host.targets(), [{ runId: 'b' }]);
  const posted = a.webview.posted.length;
  controllers[0].increment(1);
  assert.equal(a.webview.posted.length, posted, 'a closed panel posts nothing');

  b.dispose();
  assert.deepEqual(host.targets(), []);
  host.show({ runId: 'a' });
  assert.equal(window.panels.length, 3, 'a closed target opens a new panel');

  registration.dispose();
  assert.equal(window.serializers.size, 0);
});
