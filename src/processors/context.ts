/** What a decide function may know of the world: time and ids, passed in. */
export interface DecideContext {
  /** ms since the epoch */
  readonly now: number;
  /** a random UUID */
  newId(): string;
  /** a UUIDv5 of `name`: the same name always yields the same id */
  stableId(name: string): string;
}
