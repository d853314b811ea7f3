/**
 * What a CPU-profile sample of a relayer was doing (bench/cpu-profile.ts): the activity of the highest-ranked frame on
 * its stack (EIP-712 hashing ranks above the keccak and ABI encoding it calls, which rank above the HTTP handler that
 * delivered the packet), else what its leaf module is.
 */

/** A V8 profile's call frame (lineNumber and columnNumber are 0-based). */
export interface Frame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface Activity {
  name: string;
  /** By function name (any module). */
  functions?: RegExp;
  /** By module: a package name, a node built-in (`node:...`) or a source file of the repository. */
  modules?: RegExp;
}

/** Highest rank first. */
const ACTIVITIES: Activity[] = [
  { name: "EIP-712 hashing", functions: /^(hashTypedData|hashStruct|hashDomain|packetDigest|countersignatureDigest)$/ },
  { name: "secp256k1 (recovery, signing)", functions: /^(recoverHashSigner|recoverAddress|signParts|signHash|sign)$/ },
  { name: "transaction serialization (RLP)", functions: /^(serializeTransaction|signTransaction|toRlp)$/ },
  {
    name: "ABI encode/decode",
    functions:
      /^(encodeFunctionData|decodeFunctionResult|encodeAbiParameters|decodeAbiParameters|decodeEventLog|parseEventLogs|encodeEventTopics|decodeErrorResult|encodeDeployData)$/,
    modules: /^(abitype|lib\/domain\/ledger-types\.ts)$/,
  },
  { name: "address checksums (getAddress)", functions: /^(getAddress|checksumAddress|isAddress)$/ },
  { name: "SQLite and the store", modules: /^(better-sqlite3|relayer\/src\/store\/)/ },
  { name: "logging (pino)", modules: /^(pino|pino-std-serializers|sonic-boom|thread-stream|lib\/infra\/log\.ts)/ },
  { name: "metrics (prom-client)", modules: /^(prom-client|relayer\/src\/metrics)/ },
  { name: "validation (zod)", modules: /^zod$/ },
  { name: "JSON-RPC client (rpc.ts: JSON, batching)", modules: /^relayer\/src\/chains\/evm\/rpc\.ts$/ },
  { name: "WebSocket heads (ws)", modules: /^(ws|relayer\/src\/chains\/evm\/heads\.ts)$/ },
  {
    name: "HTTP and sockets (node)",
    modules: /^node:(_http|http|https|net|tls|dns|internal\/(http|net|stream|streams|url|dns|tls|js_stream))/,
  },
];

/** Leaf modules that are not an activity above, grouped. */
function leafGroup(module: string): string {
  if (module === "(garbage collector)") return "GC";
  if (module === "(program)") return "V8 and native, unattributed ((program))";
  if (/^viem$/.test(module)) return "viem, other (actions, formatters, utils)";
  if (/^@noble\//.test(module)) return "@noble (keccak outside the above)";
  if (/^node:/.test(module)) return "node, other (timers, events, promises)";
  if (/^(relayer|lib)\//.test(module)) return "the relayer's own code";
  return `other: ${module}`;
}

export function classify(stack: readonly Frame[], modules: readonly string[], leafModule: string): string {
  let best = ACTIVITIES.length;
  for (let i = 0; i < stack.length; i++) {
    const name = stack[i]!.functionName;
    for (let a = 0; a < best; a++) {
      const act = ACTIVITIES[a]!;
      if (act.functions?.test(name) || act.modules?.test(modules[i]!)) {
        best = a;
        break;
      }
    }
  }
  return best < ACTIVITIES.length ? ACTIVITIES[best]!.name : leafGroup(leafModule);
}
