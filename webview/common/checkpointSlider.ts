/**
 * The checkpoint slider of a page that looks inside one run: a range over the run's saved steps
 * with a "step S (i of n)" label. Moving it asks the host to load that step; focusing it asks for
 * the list of steps again (a run still training saves more). The host answers both with the
 * session's step and steps, which `show` puts back on the slider.
 *
 * Test hooks: data-testid="step-scrubber" on the range, data-testid="step" on the label.
 */
import { el } from './dom';

export class CheckpointSlider {
  /** The label and the range, to place in a toolbar. */
  readonly elements: HTMLElement[];
  private readonly range: HTMLInputElement;
  private readonly label: HTMLElement;
  private steps: readonly number[] = [];
  private step = -1;

  constructor(handlers: { load(step: number): void; refresh(): void }) {
    this.range = <HTMLInputElement>el('input', { type: 'range', id: 'step-range', min: '0', max: '0', step: '1', 'aria-label': 'Checkpoint step', 'data-testid': 'step-scrubber' });
    this.label = el('span', { class: 'step-label', 'data-testid': 'step' }, 'step –');
    this.elements = [el('label', { for: 'step-range' }, 'Checkpoint'), this.range, this.label];
    this.range.addEventListener('change', () => {
      const chosen = this.steps[Number(this.range.value)];
      if (chosen !== undefined && chosen !== this.step) handlers.load(chosen);
    });
    this.range.addEventListener('focus', () => handlers.refresh());
  }

  /** The session's step and the run's saved steps. */
  show(step: number, steps: readonly number[]): void {
    this.step = step;
    this.steps = steps;
    const index = steps.indexOf(step);
    this.range.max = String(Math.max(0, steps.length - 1));
    this.range.value = String(Math.max(0, index));
    this.range.disabled = steps.length < 2;
    this.label.textContent = `step ${step}${steps.length ? ` (${index + 1} of ${steps.length})` : ''}`;
  }
}
