// Session targeting through the client: createSyncClient + restTransport against the reference
// server in its own process (PGlite), over loopback.
//
// - fan-out: one `client.deliveries.send` to the 10 other sessions of one user, each a sync
//   client with a `delivery` handler; time from the send until all 10 acknowledgements were
//   answered by the server, p50/p99 over 200 deliveries.
// - a 50 MB asset (SYNCLINE_BENCH_ASSET_MB to change, e.g. 500): `client.assets.send` from a
//   file asset store, received by another client into its file asset store (downloaded,
//   verified, stored); sender and receiver each in its own process (bench/lib/asset-party.mjs);
//   MB/s each way, peak RSS growth (/proc VmHWM, reset before the transfer) of the server, the
//   sender and the receiver, and server CPU per MB moved.
//
//   npm run build && node bench/client-targeting.mjs
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  isMain,
  printResult,
  processCpuSeconds,
  quantile,
  startServerProcess,
} from './lib/rest-server.mjs';
import { device } from './lib/targeting-device.mjs';

export const meta = {
  title: 'deliveries and assets through the client',
  runs: 1,
  metrics: [
    {
      key: 'fan_p50',
      label: 'fan-out to 10 sessions, p50',
      unit: 'ms',
      target: 20,
      better: 'lower',
    },
    {
      key: 'fan_p99',
      label: 'fan-out to 10 sessions, p99',
      unit: 'ms',
      target: 60,
      better: 'lower',
    },
    { key: 'up_mbs', label: 'asset upload (client)', unit: 'MB/s', target: 100, better: 'higher' },
    {
      key: 'down_mbs',
      label: 'asset download (client)',
      unit: 'MB/s',
      target: 100,
      better: 'higher',
    },
    {
      key: 'server_rss',
      label: 'server RSS growth (asset)',
      unit: 'MB',
      target: 64,
      better: 'lower',
    },
    {
      key: 'sender_rss',
      label: 'sender RSS growth (asset)',
      unit: 'MB',
      target: 64,
      better: 'lower',
    },
    {
      key: 'receiver_rss',
      label: 'receiver RSS growth (asset)',
      unit: 'MB',
      target: 64,
      better: 'lower',
    },
    // Informational: server CPU per MB moved (up and down), steadier than MB/s on a busy host.
    { key: 'server_cpu_mb', label: 'server CPU per MB (asset)', unit: 'ms', better: 'lower' },
    { key: 'sender_cpu_mb', label: 'sender CPU per MB (asset)', unit: 'ms', better: 'lower' },
    { key: 'receiver_cpu_mb', label: 'receiver CPU per MB (asset)', unit: 'ms', better: 'lower' },
    // Informational: CPU per MB of the upload alone (from `go` until `send` settled), split by
    // thread (/proc/<pid>/task): each process's main (JavaScript) thread and its others (libuv's
    // pool: file reads, writes, syncs, hashing off the main thread; the GC's helpers).
    {
      key: 'up_sender_main',
      label: 'upload: sender main thread CPU/MB',
      unit: 'ms',
      better: 'lower',
    },
    {
      key: 'up_sender_other',
      label: 'upload: sender other threads CPU/MB',
      unit: 'ms',
      better: 'lower',
    },
    {
      key: 'up_server_main',
      label: 'upload: server main thread CPU/MB',
      unit: 'ms',
      better: 'lower',
    },
    {
      key: 'up_server_other',
      label: 'upload: server other threads CPU/MB',
      unit: 'ms',
      better: 'lower',
    },
    // Page faults: fresh memory (a new buffer's pages, or the page cache's) costs a fault per
    // 4 KB, dear on a virtual machine.
    {
      key: 'up_sender_faults',
      label: 'upload: sender minor faults per MB',
      unit: '',
      better: 'lower',
    },
    {
      key: 'up_server_faults',
      label: 'upload: server minor faults per MB',
      unit: '',
      better: 'lower',
    },
    // The same for the download (from `send` settled until the receiver's handler ran): the
    // server's read and the receiver's HTTP read, hash and writes.
    {
      key: 'down_receiver_main',
      label: 'download: receiver main thread CPU/MB',
      unit: 'ms',
      better: 'lower',
    },
    {
      key: 'down_receiver_other',
      label: 'download: receiver other threads CPU/MB',
      unit: 'ms',
      better: 'lower',
    },
    {
      key: 'down_server_main',
      label: 'download: server main thread CPU/MB',
      unit: 'ms',
      better: 'lower',
    },
    {
      key: 'down_server_other',
      label: 'download: server other threads CPU/MB',
      unit: 'ms',
      better: 'lower',
    },
    {
      key: 'down_receiver_faults',
      label: 'download: receiver minor faults per MB',
      unit: '',
      better: 'lower',
    },
    {
      key: 'down_server_faults',
      label: 'download: server minor faults per MB',
      unit: '',
      better: 'lower',
    },
    // Informational: the phases of the asset's way (from the clients' `transfer` events).
    { key: 'import_ms', label: 'sender import into its store', unit: 'ms', better: 'lower' },
    {
      key: 'upload_wire_mbs',
      label: 'upload, first to last chunk',
      unit: 'MB/s',
      better: 'higher',
    },
    { key: 'reach_ms', label: 'last byte up until download starts', unit: 'ms', better: 'lower' },
    {
      key: 'download_wire_mbs',
      label: 'download, first to last byte',
      unit: 'MB/s',
      better: 'higher',
    },
    {
      key: 'stored_ms',
      label: 'last byte until stored (sync, rename)',
      unit: 'ms',
      better: 'lower',
    },
    // Informational: server CPU (Linux /proc), which a busy host sways far less than wall time.
    { key: 'fan_cpu', label: 'server CPU per fan-out', unit: 'ms', better: 'lower' },
    // Informational: CPU of this process (the 11 clients) per fan-out.
    { key: 'fan_client_cpu', label: 'clients CPU per fan-out', unit: 'ms', better: 'lower' },
    // Informational: the fan-out step by step, medians of the time since `send` was called.
    { key: 'step_send', label: 'fan-out: send answered', unit: 'ms', better: 'lower' },
    {
      key: 'step_first_handler',
      label: 'fan-out: first handler runs',
      unit: 'ms',
      better: 'lower',
    },
    { key: 'step_last_handler', label: 'fan-out: 10th handler runs', unit: 'ms', better: 'lower' },
    { key: 'step_first_ack_sent', label: 'fan-out: first ack sent', unit: 'ms', better: 'lower' },
    { key: 'step_last_ack_sent', label: 'fan-out: 10th ack sent', unit: 'ms', better: 'lower' },
    { key: 'step_complete', label: 'fan-out: ack answered complete', unit: 'ms', better: 'lower' },
    { key: 'step_last_ack', label: 'fan-out: 10th ack answered', unit: 'ms', better: 'lower' },
  ],
};

const MB = 1024 * 1024;

async function fanOut(url, serverPid) {
  const userId = `fan-${Date.now()}`;
  const sender = await device(url, userId);
  const receivers = [];
  // The round being measured: its delivery id and the times of its steps (performance.now()).
  let round = null;
  for (let i = 0; i < 10; i++) {
    const r = await device(url, userId);
    const ack = r.transport.deliveries.ack.bind(r.transport.deliveries);
    r.transport.deliveries.ack = async (id, signal) => {
      const mine = round !== null && round.id === id ? round : null;
      mine?.ackSent.push(performance.now());
      const answer = await ack(id, signal);
      mine?.answered(answer);
      return answer;
    };
    r.client.on('delivery', ({ delivery }) => {
      if (round !== null && delivery.id === round.id) round.handled.push(performance.now());
    });
    receivers.push(r);
  }
  const times = [];
  const steps = [];
  let cpuStart = 0;
  let clientCpuStart;
  for (let i = 0; i < 220; i++) {
    if (i === 20) {
      cpuStart = processCpuSeconds(serverPid);
      clientCpuStart = process.cpuUsage();
    }
    let done;
    const all = new Promise((resolve) => {
      done = resolve;
    });
    const id = randomUUID();
    round = {
      id,
      handled: [],
      ackSent: [],
      acked: [],
      completeAt: Number.NaN,
      answered(answer) {
        const at = performance.now();
        this.acked.push(at);
        if (answer.complete) this.completeAt = at;
        if (this.acked.length === 10) done();
      },
    };
    const started = performance.now();
    const sent = sender.client.deliveries
      .send({ id, kind: 'bench', payload: { i } })
      .then(() => performance.now());
    const sentAt = await sent;
    await all;
    const end = performance.now();
    if (i < 20) continue; // 20 warm-up rounds
    times.push(end - started);
    const since = (t) => t - started;
    steps.push({
      send: since(sentAt),
      firstHandler: since(Math.min(...round.handled)),
      lastHandler: since(Math.max(...round.handled)),
      firstAckSent: since(Math.min(...round.ackSent)),
      lastAckSent: since(Math.max(...round.ackSent)),
      complete: since(round.completeAt),
      lastAck: since(end),
    });
  }
  const cpu = processCpuSeconds(serverPid) - cpuStart;
  const clientCpu = process.cpuUsage(clientCpuStart);
  round = null;
  for (const r of [sender, ...receivers]) await r.client.stop();
  const step = (key) =>
    quantile(
      steps.map((s) => s[key]),
      0.5,
    );
  return {
    fan_p50: quantile(times, 0.5),
    fan_p99: quantile(times, 0.99),
    fan_cpu: (cpu * 1000) / times.length,
    fan_client_cpu: (clientCpu.user + clientCpu.system) / 1000 / times.length,
    step_send: step('send'),
    step_first_handler: step('firstHandler'),
    step_last_handler: step('lastHandler'),
    step_first_ack_sent: step('firstAckSent'),
    step_last_ack_sent: step('lastAckSent'),
    step_complete: step('complete'),
    step_last_ack: step('lastAck'),
  };
}

/** VmRSS and VmHWM (peak) of a process, in bytes, from /proc. */
function procMemory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => {
    const line = status.split('\n').find((l) => l.startsWith(`${name}:`));
    return line === undefined ? Number.NaN : Number(line.split(/\s+/)[1]) * 1024;
  };
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

/**
 * CPU seconds of a process's main thread (its id is the process's) and of all its other
 * threads together, from /proc/<pid>/task; NaN for both when /proc cannot be read.
 */
function threadCpuSeconds(pid) {
  const ticksPerSecond = 100; // USER_HZ on Linux
  let main = 0;
  let others = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      let fields;
      try {
        fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
      } catch {
        continue; // the thread ended meanwhile
      }
      const seconds = (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
      if (Number(tid) === pid) main += seconds;
      else others += seconds;
    }
  } catch {
    return { main: Number.NaN, others: Number.NaN };
  }
  return { main, others };
}

/** Minor page faults of a process so far (/proc/<pid>/stat), NaN when it cannot be read. */
function minorFaults(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[7]);
  } catch {
    return Number.NaN;
  }
}

/** Resets a process's peak RSS (VmHWM) to its current RSS (Linux `clear_refs` 5). */
function resetPeak(pid) {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** A sender or receiver client in its own process (bench/lib/asset-party.mjs). */
function party(role, url, userId, directory, options) {
  const child = fork(
    fileURLToPath(new URL('./lib/asset-party.mjs', import.meta.url)),
    [
      role,
      url,
      userId,
      directory,
      String(options.mb),
      options.chunkMb === undefined ? '-' : String(options.chunkMb),
      options.window === undefined ? '-' : String(options.window),
      options.source,
    ],
    {
      // SYNCLINE_BENCH_PARTY_ARGS passes node flags to both parties, e.g. `--cpu-prof`.
      execArgv: [
        '--expose-gc',
        ...(process.env.SYNCLINE_BENCH_PARTY_ARGS ?? '').split(' ').filter(Boolean),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const messages = [];
  let waiting;
  child.on('message', (message) => {
    messages.push(message);
    waiting?.();
  });
  const failed = new Promise((_, reject) => {
    child.once('exit', (code) => reject(new Error(`the ${role} process exited with ${code}`)));
  });
  failed.catch(() => undefined);
  return {
    pid: child.pid,
    send: (message) => child.send(message),
    /** The next message of `type`. */
    async next(type) {
      for (;;) {
        const index = messages.findIndex((m) => m.type === type);
        if (index >= 0) return messages.splice(index, 1)[0];
        await Promise.race([new Promise((resolve) => (waiting = resolve)), failed]);
      }
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send('stop');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      child.kill();
    },
  };
}

async function assetRoundTrip(url, serverPid, options) {
  const size = options.mb * MB;
  const dir = await mkdtemp(join(tmpdir(), 'syncline-bench-assets-'));
  const userId = `asset-${Date.now()}`;
  const receiver = party('receiver', url, userId, join(dir, 'receiver'), options);
  let sender;
  try {
    await receiver.next('ready');
    sender = party('sender', url, userId, join(dir, 'sender'), options);
    await sender.next('ready');
    const pids = { server: serverPid, sender: sender.pid, receiver: receiver.pid };
    const before = {};
    for (const [name, pid] of Object.entries(pids)) {
      resetPeak(pid);
      before[name] = procMemory(pid).rss;
    }
    const cpuBefore = {};
    for (const [name, pid] of Object.entries(pids)) cpuBefore[name] = processCpuSeconds(pid);
    const threadsBefore = {
      sender: threadCpuSeconds(sender.pid),
      server: threadCpuSeconds(serverPid),
    };
    const faultsBefore = { sender: minorFaults(sender.pid), server: minorFaults(serverPid) };
    const monotonicFrom = process.hrtime.bigint() / 1000n;
    sender.send('go');
    const sent = await sender.next('sent');
    const monotonicSent = process.hrtime.bigint() / 1000n;
    const threadsSent = {
      sender: threadCpuSeconds(sender.pid),
      server: threadCpuSeconds(serverPid),
    };
    const faultsSent = { sender: minorFaults(sender.pid), server: minorFaults(serverPid) };
    const receiverThreadsSent = threadCpuSeconds(receiver.pid);
    const receiverFaultsSent = minorFaults(receiver.pid);
    const upCpu = (name, part) =>
      ((threadsSent[name][part] - threadsBefore[name][part]) * 1000) / options.mb;
    const received = await receiver.next('received');
    const threadsReceived = {
      receiver: threadCpuSeconds(receiver.pid),
      server: threadCpuSeconds(serverPid),
    };
    const faultsReceived = { receiver: minorFaults(receiver.pid), server: minorFaults(serverPid) };
    // The receiver also works during the upload (its event stream, the delivery's listing):
    // counted from `send` settled, as the server's download part is.
    const downCpu = (after, before, part) => ((after[part] - before[part]) * 1000) / options.mb;
    const { t0, t1 } = sent;
    const { t2 } = received;
    if (process.env.SYNCLINE_BENCH_PARTY_ARGS || process.env.SYNCLINE_BENCH_SERVER_ARGS) {
      // The transfer's window on the clock of --cpu-prof profiles (µs), to cut them to it.
      const to = process.hrtime.bigint() / 1000n;
      process.stderr.write(`transfer window (monotonic µs): ${monotonicFrom} ${to}\n`);
      process.stderr.write(`upload window (monotonic µs): ${monotonicFrom} ${monotonicSent}\n`);
    }
    const growth = (name) => (procMemory(pids[name]).peak - before[name]) / MB;
    // CPU ms per MB: the server's over both directions, each client's over its own.
    const cpu = (name, mbMoved) =>
      ((processCpuSeconds(pids[name]) - cpuBefore[name]) * 1000) / mbMoved;
    return {
      up_mbs: size / MB / ((t1 - t0) / 1000),
      down_mbs: size / MB / ((t2 - t1) / 1000),
      server_rss: growth('server'),
      sender_rss: growth('sender'),
      receiver_rss: growth('receiver'),
      server_cpu_mb: cpu('server', 2 * options.mb),
      sender_cpu_mb: cpu('sender', options.mb),
      receiver_cpu_mb: cpu('receiver', options.mb),
      up_sender_main: upCpu('sender', 'main'),
      up_sender_other: upCpu('sender', 'others'),
      up_server_main: upCpu('server', 'main'),
      up_server_other: upCpu('server', 'others'),
      up_sender_faults: (faultsSent.sender - faultsBefore.sender) / options.mb,
      up_server_faults: (faultsSent.server - faultsBefore.server) / options.mb,
      down_receiver_main: downCpu(threadsReceived.receiver, receiverThreadsSent, 'main'),
      down_receiver_other: downCpu(threadsReceived.receiver, receiverThreadsSent, 'others'),
      down_server_main: downCpu(threadsReceived.server, threadsSent.server, 'main'),
      down_server_other: downCpu(threadsReceived.server, threadsSent.server, 'others'),
      down_receiver_faults: (faultsReceived.receiver - receiverFaultsSent) / options.mb,
      down_server_faults: (faultsReceived.server - faultsSent.server) / options.mb,
      // Where the time goes: the sender's import into its store (read, hash, write, sync),
      // its upload (first chunk to last byte held), until the delivery reaches the receiver,
      // the receiver's download (first to last byte stored), and its commit (verified as the
      // bytes came; synced and renamed into place) until its `delivery` handler runs.
      import_ms: sent.first - t0,
      upload_wire_mbs: size / MB / ((sent.lastByte - sent.first) / 1000),
      reach_ms: received.first - sent.lastByte,
      download_wire_mbs: size / MB / ((received.lastByte - received.first) / 1000),
      stored_ms: t2 - received.lastByte,
    };
  } finally {
    await Promise.all([receiver.stop(), sender?.stop()]);
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Command-line options: `--mb N` (the asset's size, default 50 or SYNCLINE_BENCH_ASSET_MB) and
 * `--only fan|asset` (one of the two measurements); `--chunk-mb N` and `--window N` set the
 * clients' `assetChunkBytes` and `assetUploadWindow` (the library's defaults otherwise);
 * `--source stream|blob` what the sender sends (default `stream`: the stored asset's stream;
 * `blob`: the same bytes in a file opened with `fs.openAsBlob`).
 */
function cliOptions(argv) {
  const options = {
    mb: Number(process.env.SYNCLINE_BENCH_ASSET_MB ?? 50),
    only: undefined,
    source: 'stream',
  };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--mb') options.mb = Number(argv[++i]);
    else if (argv[i] === '--only') options.only = argv[++i];
    else if (argv[i] === '--chunk-mb') options.chunkMb = Number(argv[++i]);
    else if (argv[i] === '--window') options.window = Number(argv[++i]);
    else if (argv[i] === '--source') options.source = argv[++i];
  }
  if (!['stream', 'blob'].includes(options.source)) throw new Error('--source is stream or blob');
  if (!(options.mb > 0)) throw new Error('--mb wants a positive number of megabytes');
  return options;
}

/** Runs both measurements (or the one `only` names) on PGlite. */
export async function run({ mb = 50, only, chunkMb, window, source = 'stream' } = {}) {
  const server = await startServerProcess({ key: 'pglite', label: 'PGlite' });
  try {
    return {
      ...(only === 'asset' ? {} : await fanOut(server.url, server.pid)),
      ...(only === 'fan'
        ? {}
        : await assetRoundTrip(server.url, server.pid, { mb, chunkMb, window, source })),
    };
  } finally {
    await server.stop();
  }
}

if (isMain(import.meta.url)) {
  const result = await run(cliOptions(process.argv.slice(2)));
  printResult(meta, result);
}
