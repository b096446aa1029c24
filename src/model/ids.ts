/** Stable ids: the same name always yields the same UUID, so replays reproduce ids. */
import { v5 as uuidv5 } from 'uuid';

/** UUIDv5 namespace of Tidings' stable ids. */
export const TIDINGS_NAMESPACE = '8f6b2c1e-3d4a-5b6c-9d8e-7f6a5b4c3d2e';

export function stableId(name: string): string {
  return uuidv5(name, TIDINGS_NAMESPACE);
}
