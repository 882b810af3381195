import { type AssetStore, joinParts } from './asset-store.js';

/** Options of {@link BatchedAppend}. */
export interface BatchedAppendOptions {
  store: AssetStore;
  /** The partial appended to. */
  key: string;
  /** Where the partial ends now. */
  offset: number;
  /** Bytes gathered before one append. */
  batchBytes: number;
  /** Called after each append with where the partial then ends. */
  onWritten?: (end: number) => void;
}

/**
 * Appends pieces of bytes (a download's socket-sized reads, an imported stream's chunks) to a
 * partial in the store in batches of at least `batchBytes`, one batch being written while the
 * next gathers: a file store gets few large writes, not one per 64 KB, and the reading goes on
 * while the disk writes. A batch goes to `appendParts` as it is where the store has it, else
 * joined into one `append`.
 *
 * Appends stay in order and never overlap. After a failure of the source, {@link settle}
 * waits for the write in flight; bytes still gathering are dropped (the partial ends where
 * the last append ended, and a resumed download continues from there).
 */
export class BatchedAppend {
  readonly #options: BatchedAppendOptions;
  #end: number;
  #appended: number;
  #batch: Uint8Array[] = [];
  #batchBytes = 0;
  #writing: Promise<void> = Promise.resolve();

  constructor(options: BatchedAppendOptions) {
    this.#options = options;
    this.#end = options.offset;
    this.#appended = options.offset;
  }

  /**
   * Where the appends done so far end: the pieces handed over before it are the store's (it
   * copied or wrote them), and their memory is the caller's again.
   */
  get appended(): number {
    return this.#appended;
  }

  /** Bytes handed over so far, as an offset in the partial (gathering ones included). */
  get received(): number {
    return this.#end + this.#batchBytes;
  }

  /**
   * Takes the next piece (not copied: the caller must not change it afterwards). Resolves when
   * the caller may hand over another; with a batch full, that is once the previous append is
   * done (rejecting if it failed).
   */
  async push(piece: Uint8Array): Promise<void> {
    if (piece.length === 0) return;
    this.#batch.push(piece);
    this.#batchBytes += piece.length;
    if (this.#batchBytes >= this.#options.batchBytes) await this.#flush();
  }

  /** Appends what is gathered and waits for every append. */
  async finish(): Promise<void> {
    if (this.#batchBytes > 0) await this.#flush();
    await this.#writing;
  }

  /** Waits for the append in flight, whatever its outcome. */
  async settle(): Promise<void> {
    await this.#writing.catch(() => undefined);
  }

  async #flush(): Promise<void> {
    await this.#writing;
    const { store, key, onWritten } = this.#options;
    const parts = this.#batch;
    const at = this.#end;
    const end = at + this.#batchBytes;
    this.#batch = [];
    this.#batchBytes = 0;
    this.#end = end;
    const appending =
      parts.length === 1
        ? store.append(key, at, parts[0] as Uint8Array)
        : store.appendParts !== undefined
          ? store.appendParts(key, at, parts)
          : store.append(key, at, joinParts(parts));
    this.#writing = appending.then(() => {
      this.#appended = end;
      onWritten?.(end);
    });
    this.#writing.catch(() => undefined); // awaited by the next flush, finish or settle
  }
}
