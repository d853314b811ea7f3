/**
 * One base error for the sandbox (message, details, cause), as viem's BaseError does. The CLI maps
 * `AuditInputError` (bad path, bad source, bad accepted file, bad option) to exit code 2.
 */
export class AuditError extends Error {
  override readonly name: string = "AuditError";
  readonly shortMessage: string;
  readonly details: string | undefined;

  constructor(shortMessage: string, opts: { details?: string; cause?: unknown } = {}) {
    super(opts.details ? `${shortMessage}\n${opts.details}` : shortMessage, { cause: opts.cause });
    this.shortMessage = shortMessage;
    this.details = opts.details;
  }
}

/** The input cannot be audited as given: a missing path, no sources, a compile error, a bad accepted entry. */
export class AuditInputError extends AuditError {
  override readonly name: string = "AuditInputError";
}

/** solc refused the sources: `details` lists each error as `file:line:column: Type: message`. */
export class AuditCompileError extends AuditInputError {
  override readonly name: string = "AuditCompileError";
}

/** An import that neither a relative path nor node_modules could provide. */
export class AuditImportError extends AuditInputError {
  override readonly name: string = "AuditImportError";
}
