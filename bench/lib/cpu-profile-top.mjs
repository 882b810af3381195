// Prints where a V8 CPU profile (.cpuprofile, e.g. from SYNCLINE_BENCH_CLIENT_PROFILE or
// `node --cpu-prof`) spent its samples: self time per function, and the total (self and below)
// of the functions that take the most, as a share of all samples.
//
//   node bench/lib/cpu-profile-top.mjs <file.cpuprofile> [rows]
import { readFileSync } from 'node:fs';

const [file, rowsArg] = process.argv.slice(2);
const rows = Number(rowsArg ?? 40);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map();
for (const node of profile.nodes)
  for (const child of node.children ?? []) parent.set(child, node.id);

const hits = new Map(); // node id -> samples
for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
const total = profile.samples.length;
const durationMs = (profile.endTime - profile.startTime) / 1000;

const label = ({ callFrame: f }) => {
  const where =
    f.url === ''
      ? ''
      : ` ${f.url.replace(/^.*\/(packages|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
  return `${f.functionName || '(anonymous)'}${where}`;
};

const self = new Map();
const inclusive = new Map();
for (const [id, count] of hits) {
  const name = label(byId.get(id));
  self.set(name, (self.get(name) ?? 0) + count);
  // Each function on the sample's stack, once (recursion counted once).
  const seen = new Set();
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const frame = label(byId.get(at));
    if (seen.has(frame)) continue;
    seen.add(frame);
    inclusive.set(frame, (inclusive.get(frame) ?? 0) + count);
  }
}

const share = (n) => `${((100 * n) / total).toFixed(1).padStart(5)} %`;
const top = (map) => [...map].sort((a, b) => b[1] - a[1]).slice(0, rows);
console.log(`${total} samples over ${durationMs.toFixed(0)} ms\n\nself:`);
for (const [name, n] of top(self)) console.log(`${share(n)}  ${name}`);
console.log('\nself + below:');
for (const [name, n] of top(inclusive)) console.log(`${share(n)}  ${name}`);
