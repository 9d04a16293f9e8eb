// Drives the VS Code workbench in Chromium the way a person does: palette, tabs, side bar,
// panels, notifications. Selectors are VS Code 1.99's (code-server 4.99.4).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { requireChromium } from './paths';
import { waitFor } from './waitFor';

export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: requireChromium(), args: chromiumArgs, timeout: 60_000 });
}

/** Quotes a string for use inside a CSS attribute selector. */
function cssString(value: string): string {
  return JSON.stringify(value);
}

export class Workbench {
  private constructor(
    readonly page: Page,
    /** Screenshots go here. */
    readonly artifactsDir: string,
  ) {}

  /** Opens `url` in a new page and waits until the workbench has rendered. */
  static async open(browser: Browser, url: string, artifactsDir: string): Promise<Workbench> {
    mkdirSync(artifactsDir, { recursive: true });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(30_000);
    page.setDefaultNavigationTimeout(60_000);
    const workbench = new Workbench(page, artifactsDir);
    await page.goto(url);
    await workbench.waitUntilReady();
    return workbench;
  }

  async waitUntilReady(): Promise<void> {
    await this.page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    // The status bar appears once the workbench finished its first layout.
    await this.page.waitForSelector('.statusbar', { timeout: 60_000 });
  }

  /**
   * Reloads the window and waits for the new workbench; the extension host restarts.
   * 'command' runs "Developer: Reload Window", as a VS Code user would: the workbench shuts down
   * in order and saves its state (open editors, webview panels) first. 'browser' is the browser's
   * reload button, where state saved only lazily may be lost.
   */
  async reload(via: 'command' | 'browser' = 'command'): Promise<void> {
    if (via === 'browser') {
      await this.page.reload();
    } else {
      await this.page.evaluate(() => ((window as unknown as { __e2eOldPage?: boolean }).__e2eOldPage = true));
      await this.runCommand('Developer: Reload Window');
      await waitFor(
        () =>
          this.page
            .evaluate(() => (window as unknown as { __e2eOldPage?: boolean }).__e2eOldPage !== true)
            .catch(() => false), // the page is navigating
        { timeoutMs: 60_000, what: 'the window to reload' },
      );
    }
    await this.waitUntilReady();
  }

  async screenshot(name: string): Promise<string> {
    const file = join(this.artifactsDir, `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** A screenshot of one side-bar view (header and body), e.g. "Live": a close-up of its webview. */
  async screenshotView(viewTitle: string, name: string): Promise<string> {
    const pane = this.page.locator('.pane').filter({
      has: this.page.locator(`.pane-header .title:text-matches(${cssString(`^${escapeRegExp(viewTitle)}$`)}, "i")`),
    });
    const box = await pane.first().boundingBox();
    if (!box) throw new Error(`no side-bar view titled "${viewTitle}" on screen`);
    const file = join(this.artifactsDir, `${name}.png`);
    await this.page.screenshot({ path: file, clip: box });
    return file;
  }

  /** Titles of the commands the palette offers for `query` (what a person sees in the list). */
  async paletteEntries(query: string): Promise<string[]> {
    await this.openPalette(query);
    await this.page.waitForTimeout(500); // the list filters asynchronously
    const labels = await this.paletteRowLabels();
    await this.page.keyboard.press('Escape');
    return labels;
  }

  /**
   * Runs a command by its palette title ("Category: Title") through F1, exactly like a user.
   * The palette's list is computed when it opens, and extensions register their commands a few
   * seconds after the workbench shows, so it is reopened until the command is offered.
   */
  async runCommand(title: string, options: { timeoutMs?: number } = {}): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      await this.openPalette(title);
      // aria-label is the title, possibly followed by ", recently used" or ", similar commands".
      const index = await waitFor(
        async () => {
          const labels = await this.paletteRowLabels();
          const at = labels.findIndex((label) => label === title || label.startsWith(`${title}, `));
          return at >= 0 ? at : undefined;
        },
        { timeoutMs: 2_000, what: `"${title}" in the palette` },
      ).catch(() => undefined);
      if (index !== undefined) {
        await this.chooseQuickRow(index);
        break;
      }
      const offered = await this.paletteRowLabels();
      await this.page.keyboard.press('Escape');
      if (Date.now() > deadline) {
        throw new Error(`command "${title}" is not in the palette (offered: ${JSON.stringify(offered)})`);
      }
      await this.page.waitForTimeout(500);
    }
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => {
      // The command itself may have opened a quick pick: that is the command's business.
    });
  }

  private async paletteRowLabels(): Promise<string[]> {
    return this.page
      .locator('.quick-input-widget .monaco-list-row')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('aria-label') ?? ''));
  }

  private async openPalette(text: string): Promise<void> {
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    if (!(await input.isVisible())) {
      await this.page.locator('.monaco-workbench').click({ position: { x: 5, y: 5 }, force: true }).catch(() => {});
      await this.page.keyboard.press('F1');
    }
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(`>${text}`);
  }

  // ---------------------------------------------------------------- quick picks and inputs

  /**
   * Picks, in the quick pick a command opened, the item whose label is exactly `label` (or
   * matches the RegExp). Waits for the item, since commands fill their lists asynchronously.
   * The list renders only the rows in view: a string label not among them is typed into the
   * quick pick's filter, as a person would.
   */
  async pickQuickItem(label: string | RegExp, options: { timeoutMs?: number } = {}): Promise<void> {
    const rows = this.page.locator('.quick-input-widget .monaco-list-row');
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    const matches = (text: string) => (typeof label === 'string' ? text === label : label.test(text));
    const labels = () =>
      rows.evaluateAll((els) => els.map((row) => row.querySelector('.label-name')?.textContent?.trim() ?? ''));
    const filterFor = async (text: string) => {
      if (!(await input.isVisible())) return;
      const value = await input.inputValue();
      // '>' is the command palette the command was run from, still on screen: not its list.
      if (value !== text && !value.startsWith('>') && (await rows.count()) > 0) await input.fill(text);
    };
    // The list the previous quick input showed can still be on screen for a moment: find the item
    // twice in a row at the same place before choosing it.
    const index = await waitFor(
      async () => {
        const first = (await labels()).findIndex(matches);
        if (first < 0) {
          if (typeof label === 'string') await filterFor(label);
          return undefined;
        }
        await this.page.waitForTimeout(200);
        const second = (await labels()).findIndex(matches);
        return second === first ? first : undefined;
      },
      { timeoutMs: options.timeoutMs ?? 15_000, what: `quick pick item ${String(label)}` },
    );
    await this.chooseQuickRow(index);
  }

  /**
   * Accepts the row at `index` of the open quick input with the keyboard (arrows, then Enter):
   * a mouse click can land on a hover that happens to cover the list. The keys go to the quick
   * input's own box (focused first, as a person clicks into it): a page that takes the focus back
   * after running a command (the walkthrough does) would otherwise receive them.
   */
  private async chooseQuickRow(index: number): Promise<void> {
    const rows = this.page.locator('.quick-input-widget .monaco-list-row');
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    const focusedIndex = () =>
      rows.evaluateAll((els) => els.findIndex((el) => el.classList.contains('focused')));
    const wanted = await rows.nth(index).getAttribute('aria-label');
    for (let moves = 0; moves < 200; moves++) {
      const focused = await focusedIndex();
      if (focused === index) break;
      await input.press(focused < index ? 'ArrowDown' : 'ArrowUp');
    }
    const focused = await focusedIndex();
    if (focused !== index || (await rows.nth(index).getAttribute('aria-label')) !== wanted) {
      throw new Error(`could not move the quick input's focus to "${wanted}"`);
    }
    await input.press('Enter');
  }

  /**
   * Types into the input box a command shows and presses Enter. Right after a quick pick the
   * widget is still on screen with the pick's list: wait until it is an input box (no list
   * rows visible), or the text would go into the pick's filter.
   */
  async answerInput(text: string): Promise<void> {
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    const listRows = this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
    await waitFor(
      async () => (await input.isVisible()) && (await listRows.evaluateAll((rows) => rows.every((row) => row.getBoundingClientRect().height === 0))),
      { timeoutMs: 15_000, what: 'an input box (a quick input without a list)' },
    );
    await input.fill(text);
    await waitFor(async () => (await input.inputValue()) === text, { timeoutMs: 5_000, what: `the input box to hold "${text}"` });
    await input.press('Enter');
  }

  // ---------------------------------------------------------------- webviews

  /**
   * The document inside the webview titled `title`: an editor tab (a panel) or a side-bar view.
   * A webview lives in `iframe.webview` (positioned over its editor or view) and then in
   * `iframe#active-frame` inside it; the right one is the visible one over the titled part.
   */
  async webviewFrame(title: string, options: { timeoutMs?: number } = {}): Promise<Frame> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const tab = this.editorTab(title);
    if (await tab.count()) await tab.first().click();
    const iframeIndex = await waitFor(
      () =>
        this.page.evaluate((wanted) => {
          // No named helper functions in here: the bundler's __name() wrapper does not exist in the page.
          let area: DOMRect | undefined;
          for (const tabEl of document.querySelectorAll('.tabs-container .tab')) {
            const label = tabEl.querySelector('.label-name')?.textContent?.trim();
            if (label === wanted && tabEl.classList.contains('active')) {
              const group = tabEl.closest('.editor-group-container');
              area = group?.querySelector('.editor-container')?.getBoundingClientRect();
            }
          }
          if (!area) {
            for (const pane of document.querySelectorAll('.pane')) {
              const header = pane.querySelector('.pane-header .title')?.textContent?.trim();
              if (header?.toLowerCase() === wanted.toLowerCase() && pane.querySelector('.pane-body')) {
                area = pane.querySelector('.pane-body')?.getBoundingClientRect();
              }
            }
          }
          if (!area || area.width === 0) return undefined;
          const frames = [...document.querySelectorAll('iframe.webview')];
          for (let index = 0; index < frames.length; index++) {
            const container = frames[index].parentElement;
            if (container && getComputedStyle(container).visibility === 'hidden') continue;
            const rect = frames[index].getBoundingClientRect();
            const x = rect.left + rect.width / 2;
            const y = rect.top + rect.height / 2;
            if (rect.width > 0 && x >= area.left && x <= area.right && y >= area.top && y <= area.bottom) return index;
          }
          return undefined;
        }, title),
      { timeoutMs, what: `a visible webview titled "${title}"` },
    );
    const outer = await this.page.locator('iframe.webview').nth(iframeIndex).elementHandle();
    const outerFrame = await outer?.contentFrame();
    if (!outerFrame) throw new Error(`webview "${title}" has no frame`);
    return waitFor(
      async () => {
        // Not frame.name(): Playwright fixes it at creation, and VS Code creates the frame as
        // #pending-frame and renames it to #active-frame once the content has loaded.
        let inner: Frame | undefined;
        for (const child of outerFrame.childFrames()) {
          const element = await child.frameElement().catch(() => undefined);
          if ((await element?.getAttribute('id')) === 'active-frame') inner = child;
        }
        if (!inner) return undefined;
        const ready = await inner.evaluate(() => document.readyState === 'complete' && !!document.body).catch(() => false);
        return ready ? inner : undefined;
      },
      { timeoutMs, what: `the content of webview "${title}" (iframe#active-frame)` },
    );
  }

  editorTab(title: string) {
    return this.page.locator('.tabs-container .tab').filter({
      has: this.page.locator(`.label-name:text-is(${cssString(title)})`),
    });
  }

  /** Titles of the open editor tabs, left to right. */
  async editorTabTitles(): Promise<string[]> {
    return this.page
      .locator('.tabs-container .tab .label-name')
      .evaluateAll((els) => els.map((el) => el.textContent?.trim() ?? ''));
  }

  // ---------------------------------------------------------------- side bar and panels

  /** Opens an activity-bar container (e.g. "Model Lab") by its name. */
  async openViewContainer(name: string): Promise<void> {
    const item = this.page.locator(`.activitybar .action-item .action-label[aria-label^=${cssString(name)}]`);
    await item.first().waitFor({ state: 'visible', timeout: 15_000 });
    const checked = await item.first().evaluate((el) => el.closest('.action-item')?.classList.contains('checked'));
    if (!checked) await item.first().click();
  }

  /** aria-labels of the rows of the side-bar view titled `viewTitle` (e.g. "Runs"). */
  async treeRows(viewTitle: string): Promise<string[]> {
    const pane = this.page.locator('.pane').filter({
      has: this.page.locator(`.pane-header .title:text-matches(${cssString(`^${escapeRegExp(viewTitle)}$`)}, "i")`),
    });
    await pane.first().waitFor({ state: 'visible', timeout: 15_000 });
    return pane
      .first()
      .locator('.pane-body .monaco-list-row')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('aria-label') ?? row.textContent ?? ''));
  }

  /** Right-clicks the row of view `viewTitle` whose aria-label starts with `rowStart`; returns the context menu's entries. */
  async openRowContextMenu(viewTitle: string, rowStart: string): Promise<string[]> {
    const pane = this.page.locator('.pane').filter({
      has: this.page.locator(`.pane-header .title:text-matches(${cssString(`^${escapeRegExp(viewTitle)}$`)}, "i")`),
    });
    const row = pane.first().locator(`.pane-body .monaco-list-row[aria-label^=${cssString(rowStart)}]`);
    await row.first().click({ button: 'right' });
    const items = this.page.locator('.context-view .monaco-menu .action-item:not(.disabled) .action-label');
    await items.first().waitFor({ state: 'visible', timeout: 10_000 });
    return (await items.allTextContents()).map((text) => text.trim()).filter(Boolean);
  }

  /**
   * Runs an entry of the open context menu and waits for the menu to close. The entry is focused
   * by hovering and run with Enter: a click right after the menu opens was once dropped (the
   * menu stayed open with the entry highlighted), while Enter on the focused entry always runs
   * it. Enter is pressed again only while the menu is still open, so an entry never runs twice.
   */
  async chooseContextMenuItem(label: string): Promise<void> {
    const menu = this.page.locator('.context-view .monaco-menu');
    const entry = menu.locator('.action-item').filter({
      has: this.page.locator('.action-label', { hasText: new RegExp(`^${escapeRegExp(label)}$`) }),
    }).first();
    await waitFor(
      async () => {
        if (!(await menu.isVisible())) return true;
        await entry.hover();
        if (!(await entry.evaluate((el) => el.classList.contains('focused')))) return false;
        await this.page.keyboard.press('Enter');
        return menu.waitFor({ state: 'hidden', timeout: 3_000 }).then(() => true, () => false);
      },
      { timeoutMs: 20_000, intervalMs: 100, what: `the context menu to run "${label}" and close` },
    );
  }

  /** The status bar's items: their text and accessible label (an icon-only item has only the label). */
  async statusBarItems(): Promise<{ text: string; label: string }[]> {
    return this.page.locator('.statusbar .statusbar-item').evaluateAll((items) =>
      items.map((item) => ({
        text: item.textContent?.trim() ?? '',
        label: item.getAttribute('aria-label') ?? item.querySelector('[aria-label]')?.getAttribute('aria-label') ?? '',
      })));
  }

  /** Texts of the notification toasts on screen (with their progress, if any). */
  async notifications(): Promise<string[]> {
    return this.page
      .locator('.notifications-toasts .notification-toast')
      .evaluateAll((toasts) => toasts.map((toast) => toast.textContent?.trim() ?? ''));
  }

  /** Opens the Problems panel and returns the aria-labels of its rows (files and problems). */
  async problems(): Promise<string[]> {
    const panel = this.page.locator('.markers-panel');
    if (!(await panel.isVisible())) await this.page.keyboard.press('Control+Shift+M');
    await panel.waitFor({ state: 'visible', timeout: 15_000 });
    await this.page.waitForTimeout(300);
    return panel
      .locator('.monaco-list-row')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('aria-label') ?? row.textContent ?? ''));
  }

  /** Opens a workspace file through Quick Open (Ctrl+P), as a person would. */
  async openFile(relativePath: string): Promise<void> {
    await this.page.keyboard.press('Control+P');
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(relativePath);
    const row = this.page.locator('.quick-input-widget .monaco-list-row').first();
    await row.waitFor({ state: 'visible', timeout: 15_000 });
    await input.press('Enter');
    const name = relativePath.split('/').pop() ?? relativePath;
    await this.editorTab(name).first().waitFor({ state: 'visible', timeout: 15_000 });
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
