/**
 * Sub-chain, app and service ids are namespaced by institution (contracts/libraries/InstitutionIds.sol): the first
 * four bytes are the registering institution's number, the other 28 the start of keccak256 of a label it chooses.
 * The registries refuse an id outside the caller's own namespace, so no institution can take another's.
 */
import { keccak256, toBytes } from "viem";

const MAX_INSTITUTION = 0xffff_ffffn;

/** The id of `label` in `institution`'s namespace. */
export function scopedId(institution: number | bigint, label: string): `0x${string}` {
  const n = BigInt(institution);
  if (n <= 0n || n > MAX_INSTITUTION) throw new RangeError(`institution ${institution} is not a uint32 above 0`);
  if (label.length === 0) throw new RangeError("an id's label must not be empty");
  return `0x${n.toString(16).padStart(8, "0")}${keccak256(toBytes(label)).slice(2, 58)}`;
}

/** The institution whose namespace `id` is in. */
export function institutionOfId(id: string): number {
  return Number.parseInt(id.slice(2, 10), 16);
}
