export * from "./types";
export * from "./errors";
export * from "./codec";
export * from "./signature";
export * from "./sign";
export * from "./verify";
