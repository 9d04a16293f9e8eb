/**
 * The Sampler panel's target editor: drag a mode (×) of a mixture target on the landscape, or
 * click one and type its weight; rewrite an expression target's log-density. The page only keeps
 * the edit and says it changed: the edited contours come from the session (the landscape request
 * carries the edit), and "Fine-tune from this checkpoint" asks the host, which writes and trains
 * the new experiment.
 *
 * Test hooks: data-testid="target-editor" on the card (data-edited, data-selected), "mode-weight",
 * "expression-field", "apply-expression", "reset-edit", "fine-tune", "fine-tune-status", "edit-summary".
 */
import type { SamplerTargetInfo, TargetEdit } from '../../src/protocol/sampler';
import { el } from '../common/dom';
import { fromPx, toPx, type Frame } from '../posterior/canvas';

/** A mode is grabbed within this many CSS pixels of its cross. */
const HIT_RADIUS = 10;

export interface TargetEditorHandlers {
  /** The edit changed: ask for the edited landscape (and redraw). */
  changed(): void;
  /** The modes moved while dragging: redraw now, before the landscape answers. */
  redraw(): void;
  /** The edit is complete (a drag ended, a weight typed, an expression applied, a reset): count the samples per edited mode. */
  settled(): void;
  /** Fine-tune under this edit from the shown checkpoint; resolves to a sentence for the status line. */
  fineTune(edit: TargetEdit): Promise<string>;
}

export class TargetEditor {
  readonly card: HTMLElement;
  private target?: SamplerTargetInfo;
  private originalExpression = '';
  private means?: number[][];
  private weights?: number[];
  private expression = '';
  private edited = false;
  private selected?: number;
  private frame?: Frame;
  private dims: [number, number] = [0, 1];
  private dragging = false;
  private readonly help = el('p', { class: 'help' });
  private readonly summary = el('p', { class: 'help', 'data-testid': 'edit-summary' });
  private readonly weightField = <HTMLInputElement>el('input', { type: 'number', id: 'mode-weight', min: '0', step: 'any', class: 'number-field', 'aria-label': 'Weight of the selected mode', 'data-testid': 'mode-weight', disabled: '' });
  private readonly weightRow = el('div', { class: 'edit-row' }, el('label', { for: 'mode-weight' }, 'Weight of the selected mode'), this.weightField);
  private readonly expressionField = <HTMLTextAreaElement>el('textarea', { id: 'expression', rows: '3', spellcheck: 'false', 'aria-label': 'log R as an expression', 'data-testid': 'expression-field' });
  private readonly applyButton = el('vscode-button', { secondary: '', icon: 'check', 'data-testid': 'apply-expression', title: 'Draw the contours of this expression (computed in the worker)' }, 'Apply');
  private readonly expressionRow = el('div', { class: 'edit-column' }, el('label', { for: 'expression' }, 'log R(x) ='), this.expressionField, el('div', { class: 'edit-row' }, this.applyButton));
  private readonly resetButton = el('vscode-button', { secondary: '', icon: 'discard', 'data-testid': 'reset-edit', title: 'Back to the run\'s own target' }, 'Reset');
  private readonly fineTuneButton = el('vscode-button', { icon: 'debug-restart', 'data-testid': 'fine-tune', title: 'Train a new run under the edited target, starting from this checkpoint\'s weights; it opens beside this panel' }, 'Fine-tune from this checkpoint');
  private readonly status = el('p', { class: 'help', role: 'status', 'data-testid': 'fine-tune-status' });

  constructor(private readonly canvas: HTMLCanvasElement, private readonly handlers: TargetEditorHandlers) {
    this.card = el('section', { class: 'card', 'aria-label': 'Edit the target', 'data-testid': 'target-editor', hidden: '' },
      el('div', { class: 'card-head' }, el('h2', {}, 'Edit the target')),
      this.help, this.weightRow, this.expressionRow, this.summary,
      el('div', { class: 'edit-row' }, this.fineTuneButton, this.resetButton),
      this.status);
    canvas.addEventListener('pointerdown', (e) => this.pointerDown(e));
    canvas.addEventListener('pointermove', (e) => this.pointerMove(e));
    canvas.addEventListener('pointerup', (e) => this.pointerUp(e));
    canvas.addEventListener('pointercancel', (e) => this.pointerUp(e));
    this.weightField.addEventListener('change', () => this.weightChanged());
    this.applyButton.addEventListener('click', () => this.applyExpression());
    this.resetButton.addEventListener('click', () => this.reset());
    this.fineTuneButton.addEventListener('click', () => void this.fineTune());
  }

  /** A (new) run's target; `expression` is its log-density when it is an expression target. */
  setTarget(target: SamplerTargetInfo, expression: string | undefined): void {
    this.target = target;
    this.originalExpression = expression ?? '';
    this.card.hidden = !target.mixture && target.name !== 'expression';
    this.weightRow.hidden = !target.mixture;
    this.expressionRow.hidden = target.mixture !== undefined;
    this.help.textContent = target.mixture
      ? 'Drag a mode (×) to move it, or click one and change its weight: the contours follow (computed in the worker). Then fine-tune this sampler under the edited target.'
      : 'Rewrite log R and apply: the contours follow (computed in the worker). Then fine-tune this sampler under the edited target.';
    this.reset();
  }

  /** Where the landscape was drawn (for hit tests and dragging), and which coordinates. */
  setView(frame: Frame, dims: [number, number]): void {
    this.frame = frame;
    this.dims = dims;
  }

  /** The means to draw (edited or the target's), and the selected one. */
  modes(): { means?: number[][]; selected?: number } {
    return { means: this.means ?? this.target?.mixture?.means, selected: this.selected };
  }

  /** The edit to send with landscape requests; undefined while the target is as the run has it. */
  edit(): TargetEdit | undefined {
    return this.edited ? this.currentEdit() : undefined;
  }

  private currentEdit(): TargetEdit | undefined {
    if (this.target?.mixture && this.means && this.weights) return { kind: 'mixture', means: this.means, weights: this.weights };
    if (this.target?.name === 'expression') return { kind: 'expression', logDensity: this.expression };
    return undefined;
  }

  private reset(): void {
    const mixture = this.target?.mixture;
    this.means = mixture?.means.map((mean) => [...mean]);
    this.weights = mixture ? [...mixture.weights] : undefined;
    this.expression = this.originalExpression;
    this.expressionField.value = this.expression;
    const wasEdited = this.edited;
    this.edited = false;
    this.select(undefined);
    this.describe();
    if (wasEdited) {
      this.handlers.changed();
      this.handlers.settled();
    }
  }

  private select(index: number | undefined): void {
    this.selected = index;
    this.weightField.disabled = index === undefined;
    this.weightField.value = index === undefined || !this.weights ? '' : String(this.weights[index]);
    this.card.dataset.selected = index === undefined ? '' : String(index);
  }

  private describe(): void {
    this.card.dataset.edited = String(this.edited);
    const mixture = this.target?.mixture;
    if (!this.edited) {
      this.summary.textContent = 'The run\'s own target: fine-tuning under it continues this sampler from this checkpoint.';
      return;
    }
    if (mixture && this.means && this.weights) {
      const moved = this.means.flatMap((mean, k) => (mean.some((v, j) => v !== mixture.means[k][j]) ? [k] : []));
      const reweighted = this.weights.flatMap((w, k) => (w !== mixture.weights[k] ? [k] : []));
      const point = (k: number) => `mode ${k + 1} at (${this.means![k].map((v) => v.toFixed(2)).join(', ')})`;
      const weight = (k: number) => `mode ${k + 1} weight ${this.weights![k]}`;
      this.summary.textContent = `Edited: ${[...moved.map(point), ...reweighted.map(weight)].join('; ') || 'as the run\'s'}.`;
      return;
    }
    this.summary.textContent = `Edited: log R(x) = ${this.expression}`;
  }

  private markEdited(): void {
    this.edited = true;
    this.describe();
    this.handlers.changed();
  }

  private weightChanged(): void {
    const value = Number(this.weightField.value);
    if (this.selected === undefined || !this.weights) return;
    if (!(Number.isFinite(value) && value > 0)) {
      this.status.textContent = 'A weight must be a positive number.';
      this.weightField.value = String(this.weights[this.selected]);
      return;
    }
    this.weights[this.selected] = value;
    this.markEdited();
    this.handlers.settled();
  }

  private applyExpression(): void {
    const text = this.expressionField.value.trim();
    if (text === '' || text === this.expression) return;
    this.expression = text;
    this.markEdited();
    this.handlers.settled();
  }

  private async fineTune(): Promise<void> {
    const edit = this.currentEdit();
    if (!edit) return;
    this.fineTuneButton.toggleAttribute('disabled', true);
    this.status.textContent = 'Writing the experiment and starting its training…';
    try {
      this.status.textContent = await this.handlers.fineTune(edit);
    } catch (error) {
      this.status.textContent = `Fine-tuning did not start: ${(error as Error).message}`;
    } finally {
      this.fineTuneButton.toggleAttribute('disabled', false);
    }
  }

  // ------------------------------------------------------------------ dragging a mode

  private local(e: MouseEvent): [number, number] {
    const rect = this.canvas.getBoundingClientRect();
    return [e.clientX - rect.left, e.clientY - rect.top];
  }

  private hit(px: number, py: number): number | undefined {
    if (!this.frame || !this.means) return undefined;
    let best: number | undefined;
    let bestDistance = HIT_RADIUS;
    this.means.forEach((mean, k) => {
      const [qx, qy] = toPx(this.frame!, mean[this.dims[0]], mean[this.dims[1]]);
      const d = Math.hypot(qx - px, qy - py);
      if (d <= bestDistance) [best, bestDistance] = [k, d];
    });
    return best;
  }

  private pointerDown(e: PointerEvent): void {
    if (e.button !== 0 || !this.target?.mixture) return;
    const hit = this.hit(...this.local(e));
    this.select(hit);
    this.handlers.redraw();
    if (hit === undefined) return;
    this.dragging = true;
    this.canvas.setPointerCapture(e.pointerId);
    e.preventDefault();
  }

  private pointerMove(e: PointerEvent): void {
    const [px, py] = this.local(e);
    if (!this.dragging || this.selected === undefined || !this.frame || !this.means) {
      if (this.target?.mixture) this.canvas.style.cursor = this.hit(px, py) !== undefined ? 'grab' : '';
      return;
    }
    this.canvas.style.cursor = 'grabbing';
    const f = this.frame;
    const clamp = (v: number, [lo, hi]: [number, number]) => Math.min(hi, Math.max(lo, v));
    const [x, y] = fromPx(f, px, py);
    // Two decimals: the experiment file says where the mode went in numbers a person reads.
    const mean = this.means[this.selected];
    mean[this.dims[0]] = Math.round(clamp(x, f.x) * 100) / 100;
    mean[this.dims[1]] = Math.round(clamp(y, f.y) * 100) / 100;
    this.handlers.redraw();
    this.markEdited();
  }

  private pointerUp(e: PointerEvent): void {
    if (!this.dragging) return;
    this.dragging = false;
    this.canvas.style.cursor = '';
    if (this.canvas.hasPointerCapture(e.pointerId)) this.canvas.releasePointerCapture(e.pointerId);
    if (this.edited) this.handlers.settled();
  }
}
