/** Small DOM helpers shared by the webviews (no framework: the views are simple). */
import type { RunState } from '../../src/shared/runs';

type Child = Node | string;

/** `el('button', { class: 'x', 'aria-label': 'Go' }, 'Go')`. Attributes only, no inline handlers or styles. */
export function el(tag: string, attributes: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children.filter((c) => c !== ''));
  return element;
}

/** Colour swatch of a run (CSSOM styles are allowed by the webview's CSP, style attributes are not). */
export function setRunSwatch(swatch: HTMLElement, style: { color: string; dash?: number[] }): void {
  swatch.style.backgroundColor = style.color;
  swatch.classList.toggle('dashed', Boolean(style.dash));
}

const STATE_ICONS: Record<RunState, string> = {
  queued: 'clock',
  running: 'sync',
  completed: 'pass',
  cancelled: 'circle-slash',
  failed: 'error',
  interrupted: 'warning',
};

/** Run state as icon + word (never colour alone, for high contrast and colour blindness). */
export function stateBadge(state: RunState): HTMLElement {
  return el('span', { class: `state-badge state-${state}` },
    el('span', { class: `codicon codicon-${STATE_ICONS[state]}`, 'aria-hidden': 'true' }),
    state);
}

/**
 * The one line on whether the shown run has learned yet (src/core/learnedNote.ts): nothing when
 * its lab cannot judge; icon + words, never colour alone.
 */
export function learnedLine(note: { verdict: 'learned' | 'not-yet'; text: string } | undefined): HTMLElement | '' {
  if (!note) return '';
  return el('p', { class: `learned-note ${note.verdict}`, 'data-testid': 'learned-note', 'data-verdict': note.verdict, role: 'status' },
    el('span', { class: `codicon codicon-${note.verdict === 'learned' ? 'pass' : 'info'}`, 'aria-hidden': 'true' }),
    el('span', {}, note.text));
}
