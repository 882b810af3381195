// Runs ONE measurement of one bench file in this (fresh) process and reports it to run.mjs.
// Usage (by run.mjs): node [nodeArgs] bench/lib/child.mjs <bench file>
import { pathToFileURL } from 'node:url';
import { RESULT_MARKER } from './protocol.mjs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/lib/child.mjs <bench file>');
  process.exit(2);
}
const bench = await import(pathToFileURL(file).href);
const result = await bench.run();
// A marker line, so that anything the engine logs on stdout cannot be mistaken for the result.
process.stdout.write(`\n${RESULT_MARKER}${JSON.stringify(result)}\n`);
// Open handles (timers of a client that was not stopped) must not keep a bench alive.
process.exit(0);
