// The few functions of the `semver` package (5.x) the compiler selection uses.
declare module "semver" {
  export function satisfies(version: string, range: string): boolean;
  export function validRange(range: string): string | null;
  export function rcompare(a: string, b: string): number;
  export function valid(version: string): string | null;
}
