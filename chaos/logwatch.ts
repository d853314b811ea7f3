/**
 * Waits for a line matching a pattern to be appended to a process's log file, polling the file's new bytes. The
 * harness uses it to kill a relayer while a chosen kind of work is in flight (the relayer logs, at debug level, each
 * work item as it starts, each ledger write as its receipt arrives, each packet as it is received).
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves true once a line written after the call matches `pattern`; false after `timeoutMs`. */
export async function waitForLine(file: string, pattern: RegExp, timeoutMs: number, pollMs = 5): Promise<boolean> {
  const fd = openSync(file, "r");
  try {
    let offset = fstatSync(fd).size;
    let partial = "";
    const deadline = Date.now() + timeoutMs;
    const buffer = Buffer.alloc(1 << 16);
    while (Date.now() < deadline) {
      const size = fstatSync(fd).size;
      if (size < offset) offset = 0;
      while (offset < size) {
        const n = readSync(fd, buffer, 0, Math.min(buffer.length, size - offset), offset);
        if (n <= 0) break;
        offset += n;
        const lines = (partial + buffer.toString("utf8", 0, n)).split("\n");
        partial = lines.pop() ?? "";
        if (lines.some((l) => pattern.test(l))) return true;
      }
      await sleep(pollMs);
    }
    return false;
  } finally {
    closeSync(fd);
  }
}
