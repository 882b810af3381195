/** Prefix of the line on which a bench child prints its JSON result. */
export const RESULT_MARKER = '@@syncline-bench-result@@';
