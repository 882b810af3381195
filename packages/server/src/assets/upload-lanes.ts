/**
 * The order of one process's chunk uploads per asset copy. A client keeps several chunks of
 * one upload in flight (each its own request, possibly on its own connection), so a chunk
 * may reach the server before the one it continues. Here it waits (its body unread, so the
 * socket holds it back) until the copy's offset reaches its start, instead of being refused.
 * One chunk of a copy runs at a time; the database's compare-and-set on the offset still
 * guards against other processes.
 *
 * @module
 */

/** What a chunk's run answers: done (with the offset held afterwards, when known) or ahead. */
export type LaneOutcome<T> =
  | { type: 'done'; value: T; offset: number | undefined }
  | { type: 'ahead'; offset: number };

interface Waiter {
  start: number;
  /** Still willing to wait for the chunk it continues. */
  patient: boolean;
  go(): void;
}

interface Lane {
  busy: boolean;
  /** The copy's offset as last seen by a chunk of this process. */
  offset: number | undefined;
  waiting: Waiter[];
  idleTimer: ReturnType<typeof setTimeout> | undefined;
}

/** Options of {@link UploadLanes}. */
export interface UploadLanesOptions {
  /**
   * How long chunks that start past the copy's offset wait while no chunk of the copy runs
   * before they are answered `offset_mismatch` (the client then resumes from the offset).
   * @default 2000
   */
  idleWaitMs?: number;
}

/** Per-copy lanes, keyed by `userId sha256`. */
export class UploadLanes {
  readonly #lanes = new Map<string, Lane>();
  readonly #idleWaitMs: number;

  constructor(options: UploadLanesOptions = {}) {
    this.#idleWaitMs = options.idleWaitMs ?? 2000;
  }

  /**
   * Runs `chunk` for the copy `key` when it is its turn. `chunk(patient)` answers `ahead` (with
   * the offset it found) when its start is past the offset and `patient` is true; it is then
   * run again once the offset moves. An impatient run (waited too long) answers as it must.
   */
  async run<T>(
    key: string,
    start: number,
    chunk: (patient: boolean) => Promise<LaneOutcome<T>>,
  ): Promise<T> {
    let lane = this.#lanes.get(key);
    if (lane === undefined) {
      lane = { busy: false, offset: undefined, waiting: [], idleTimer: undefined };
      this.#lanes.set(key, lane);
    }
    let patient: boolean;
    if (!lane.busy && lane.waiting.length === 0 && fits(lane, start)) {
      lane.busy = true;
      patient = true;
    } else {
      const turn = this.#wait(lane, start);
      this.#next(key, lane); // an idle lane may let it (or a waiter) run now
      patient = await turn;
    }
    for (;;) {
      let outcome: LaneOutcome<T>;
      try {
        outcome = await chunk(patient);
      } catch (error) {
        lane.busy = false;
        lane.offset = undefined;
        this.#next(key, lane);
        throw error;
      }
      lane.busy = false;
      lane.offset = outcome.offset;
      if (outcome.type === 'done') {
        this.#next(key, lane);
        return outcome.value;
      }
      const turn = this.#wait(lane, start);
      this.#next(key, lane);
      patient = await turn;
    }
  }

  /** Queues `start`; resolves when it runs (the lane is then busy), `false` if impatient. */
  #wait(lane: Lane, start: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter: Waiter = { start, patient: true, go: () => resolve(waiter.patient) };
      lane.waiting.push(waiter);
    });
  }

  /** After a chunk: the first waiter that may run goes; else, once idle too long, the rest. */
  #next(key: string, lane: Lane): void {
    if (lane.idleTimer !== undefined) clearTimeout(lane.idleTimer);
    lane.idleTimer = undefined;
    if (lane.busy) return;
    const index = lane.waiting.findIndex((w) => !w.patient || fits(lane, w.start));
    if (index >= 0) {
      const [waiter] = lane.waiting.splice(index, 1);
      lane.busy = true;
      waiter?.go();
      return;
    }
    if (lane.waiting.length === 0) {
      this.#lanes.delete(key);
      return;
    }
    lane.idleTimer = setTimeout(() => {
      lane.idleTimer = undefined;
      // The chunk they continue never came: each is answered with the offset to resume from.
      for (const waiter of lane.waiting) waiter.patient = false;
      this.#next(key, lane);
    }, this.#idleWaitMs);
    lane.idleTimer.unref?.();
  }
}

function fits(lane: Lane, start: number): boolean {
  return lane.offset === undefined || start <= lane.offset;
}
