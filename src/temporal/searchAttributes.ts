import type { ConnectionLike } from '@temporalio/client';
import { protos } from '../util/lazy';
import { searchAttributes } from '../contracts/ids';

/** `--search-attribute` flags for `temporal server start-dev`. */
export const devServerSearchAttributeFlags: string[] = Object.values(searchAttributes).flatMap((key) => [
  '--search-attribute',
  `${key.name}=Keyword`,
]);

/** Registers tju's search attributes on a server that lacks them (a cluster not started by tju). */
export async function ensureSearchAttributes(connection: ConnectionLike, namespace: string): Promise<void> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = Object.values(searchAttributes).filter((key) => !(key.name in (existing.customAttributes ?? {})));
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(
      missing.map((key) => [key.name, protos().api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
    ),
  });
}
