/** ANSI building blocks for the terminal dashboard: styled segments measured by what is visible. */

export type Style = 'bold' | 'dim' | 'green' | 'yellow' | 'red' | 'cyan' | 'inverse';

const CODES: Record<Style, string> = {
  bold: '\x1b[1m',
  dim: '\x1b[2m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  red: '\x1b[31m',
  cyan: '\x1b[36m',
  inverse: '\x1b[7m',
};
const RESET = '\x1b[0m';

export const ENTER_ALT_SCREEN = '\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J';
export const LEAVE_ALT_SCREEN = '\x1b[?25h\x1b[?1049l';
export const CURSOR_HOME = '\x1b[H';
export const CLEAR_TO_EOL = '\x1b[K';
export const CLEAR_BELOW = '\x1b[J';

/** A run of text with an optional style. */
export type Segment = readonly [text: string, style?: Style];

/**
 * Route names, upstream URLs and log messages may carry control characters (log messages can
 * quote client input): any C0/C1 control, ESC included, is shown as `?` so nothing written to the
 * dashboard can move the cursor or restyle the terminal.
 */
export function sanitize(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/**
 * Joins segments into one terminal line of at most `width` visible columns, cutting the text
 * (never an escape sequence); each styled segment ends with its own reset.
 */
export function renderLine(segments: readonly Segment[], width: number, color: boolean): string {
  let out = '';
  let left = Math.max(0, width);
  for (const [raw, style] of segments) {
    if (left <= 0) {
      break;
    }
    const chars = Array.from(sanitize(raw));
    const text = chars.length > left ? chars.slice(0, left).join('') : chars.join('');
    left -= Math.min(chars.length, left);
    out += color && style ? CODES[style] + text + RESET : text;
  }
  return out;
}

/** Visible length of plain text (one column per code point; the dashboard draws no wide glyphs). */
export function visibleLength(text: string): number {
  return Array.from(text).length;
}

export function padEnd(text: string, width: number): string {
  const n = visibleLength(text);
  if (n >= width) {
    return n === width
      ? text
      : Array.from(text)
          .slice(0, Math.max(0, width - 1))
          .join('') + '…';
  }
  return text + ' '.repeat(width - n);
}

export function padStart(text: string, width: number): string {
  const n = visibleLength(text);
  return n >= width ? text : ' '.repeat(width - n) + text;
}

/** Removes escape sequences, for tests and for measuring rendered lines. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}
