/**
 * Progress lines for long runs go to stderr so that stdout keeps only the summary. Counters are
 * throttled: the first and last step always print, others at most every `intervalMs`.
 */
export interface ProgressSink {
  write(line: string): void;
}

export class Progress {
  private lastPrint = 0;

  constructor(
    private readonly sink: ProgressSink | null,
    private readonly intervalMs = 200,
  ) {}

  /** A progress that prints nothing (library use, tests). */
  static silent(): Progress {
    return new Progress(null);
  }

  /** A progress that prints to the process's stderr. */
  static stderr(): Progress {
    return new Progress({ write: (line) => process.stderr.write(`${line}\n`) });
  }

  phase(message: string): void {
    this.sink?.write(`audit: ${message}`);
  }

  /** A running count with no known total, e.g. `compiling: 12 imports resolved`; throttled. */
  tick(message: string, count: number): void {
    if (!this.sink) return;
    const now = Date.now();
    if (now - this.lastPrint < this.intervalMs) return;
    this.lastPrint = now;
    this.sink.write(`audit: ${message.replace("{n}", String(count))}`);
  }

  /** `label i/n`, e.g. `compiling 12/40 files`; throttled. */
  step(verb: string, i: number, n: number, noun: string, detail = ""): void {
    if (!this.sink) return;
    const now = Date.now();
    if (i !== 1 && i !== n && now - this.lastPrint < this.intervalMs) return;
    this.lastPrint = now;
    this.sink.write(`audit: ${verb} ${i}/${n} ${noun}${detail ? ` (${detail})` : ""}`);
  }
}
