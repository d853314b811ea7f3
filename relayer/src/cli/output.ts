/**
 * What a command prints. Results go to stdout, as text lines or, with `--json`, as one JSON document; progress
 * goes to stderr, so a script reading stdout gets only the result.
 */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** JSON with bigints as decimal strings (uint256 values do not fit a JSON number). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);
}

export class Output {
  constructor(
    readonly io: Io,
    readonly json: boolean,
  ) {}

  /** A line about a long operation under way (stderr). */
  progress(line: string): void {
    this.io.stderr(`${line}\n`);
  }

  /** The command's result: `lines` for people, `data` with `--json`. */
  result(lines: string[], data: unknown): void {
    if (this.json) this.io.stdout(`${toJson(data)}\n`);
    else if (lines.length > 0) this.io.stdout(`${lines.join("\n")}\n`);
  }
}

/** Fixed-width columns for tables. */
export function table(rows: string[][]): string[] {
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), []);
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd(),
  );
}

/** A unix time as an ISO date, with how far it is from `now`. */
export function when(seconds: bigint, now: bigint): string {
  const iso = new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");
  const delta = seconds - now;
  const span = (s: bigint) =>
    s >= 86_400n ? `${s / 86_400n}d` : s >= 3_600n ? `${s / 3_600n}h` : s >= 60n ? `${s / 60n}m` : `${s}s`;
  return delta >= 0n ? `${iso} (in ${span(delta)})` : `${iso} (${span(-delta)} ago)`;
}
