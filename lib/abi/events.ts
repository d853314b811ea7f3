/**
 * Decoded event arguments by name. viem decodes an event's arguments into an object when every one is named and into
 * a list otherwise; a reader that goes by name takes only the first.
 */
export function namedArgs(
  args: readonly unknown[] | Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  return args === undefined || isList(args) ? undefined : args;
}

const isList = (args: readonly unknown[] | Record<string, unknown>): args is readonly unknown[] => Array.isArray(args);
