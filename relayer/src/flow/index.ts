export { TokenBucket, type Clock } from "./token-bucket";
export { KeyedRateLimiter, FlowControl, type RateLimit, type RateScope } from "./rate-limit";
export { BoundedQueue } from "./queue";
export { Backlog, type BacklogOptions } from "./backlog";
