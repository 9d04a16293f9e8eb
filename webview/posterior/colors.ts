/** The panel's colour roles, from the theme: every plot uses the same colour for the same thing. */
import type { ThemeColors } from '../common/theme';

export interface PanelColors {
  /** The network's posterior q(θ | D). */
  network: string;
  /** The exact posterior p(θ | D). */
  exact: string;
  /** The θ that simulated the example data. */
  truth: string;
  point: string;
  selected: string;
  /** One per class (classification data), never the network/exact colours' meaning. */
  classes: string[];
}

export function panelColors(theme: ThemeColors): PanelColors {
  const [blue, orange, green, purple, red, yellow] = theme.series;
  const focus = getComputedStyle(document.body).getPropertyValue('--vscode-focusBorder').trim();
  return {
    network: blue,
    exact: orange,
    truth: green,
    point: theme.foreground,
    selected: focus || yellow,
    classes: [purple, green, red, yellow, orange, blue],
  };
}
