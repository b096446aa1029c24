/**
 * One piece of the local stack. `stack up` installs what is missing, starts
 * what is not ready and waits until it is; each step is idempotent.
 */
export interface StackPaths {
  /** repository root: where stack/ and node_modules/ are */
  root: string;
  /** data, logs and pid files (TIDINGS_STACK_DIR) */
  stackDir: string;
  /** downloads (TIDINGS_CACHE_DIR) */
  cacheDir: string;
}

export interface StackService {
  readonly name: string;
  /** what clients connect to, e.g. 127.0.0.1:19092 or postgres://… */
  readonly endpoint: string;
  /** where its log goes */
  readonly logFile: string;
  /** TCP ports it listens on; they must be free before it starts */
  readonly ports: readonly number[];
  /** downloads, unpacks, formats: whatever the first start needs; idempotent */
  install(): Promise<void>;
  isReady(): Promise<boolean>;
  /** starts it; called only when it is not ready */
  start(): Promise<void>;
  /** ms to wait for readiness after start */
  readonly startTimeoutMs: number;
  stop(): Promise<boolean>;
}

/** Ports of the local stack, away from the services' usual ports so a system install never clashes. */
export const STACK_PORTS = {
  kafka: 19092,
  kafkaController: 19093,
  registry: 18081,
  postgres: 15432,
  smtp: 11025,
  mailApi: 18025,
} as const;
