// @ts-check
/** Terminal output of the demo: one line per event, prefixed with who did it. */

const useColor = process.stdout.isTTY === true && !process.env.NO_COLOR;
const COLORS = { phone: 36, laptop: 35, server: 33, demo: 32, error: 31 };

/**
 * Prints `message` with a fixed-width `who` prefix (`phone`, `laptop`, `server`, `demo`).
 * @param {string} who
 * @param {string} message
 */
export function say(who, message) {
  const label = who.padEnd(7);
  const code = COLORS[/** @type {keyof typeof COLORS} */ (who)];
  const prefix = useColor && code ? `\x1b[${code}m${label}\x1b[0m` : label;
  console.log(`${prefix} ${message}`);
}

/**
 * Prints a numbered step heading.
 * @param {number} n
 * @param {string} title
 */
export function step(n, title) {
  console.log(`\n${useColor ? '\x1b[1m' : ''}${n}. ${title}${useColor ? '\x1b[0m' : ''}`);
}

/**
 * One line describing a device's todos, e.g. `[x] Buy oat milk · [ ] Call mum`.
 * @param {Array<{ id: string, data: Record<string, unknown> | null }>} todos
 */
export function describeTodos(todos) {
  if (todos.length === 0) return '(no todos)';
  return todos
    .map(({ id, data }) => `${data?.done ? '[x]' : '[ ]'} ${String(data?.title)} (${id})`)
    .join(' · ');
}
