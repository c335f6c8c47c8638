/** Removal of every object of one backup (by prefix), shared by delete, cancel and failure paths. */
import { isDataObjectOf, metadataObjectName, shaObjectName } from './format';
import type { BackupStore } from './stores/types';

const DELETE_CONCURRENCY = 8;

export async function removeObjectsUnderPrefix(store: BackupStore, container: string, prefix: string): Promise<number> {
  const metadata = metadataObjectName(prefix);
  const sha = shaObjectName(prefix);
  const names = (await store.listObjects(container, prefix)).filter(
    (name) => name === metadata || name === sha || isDataObjectOf(prefix, name),
  );
  if (names.includes(metadata)) await store.deleteObject(container, metadata);
  const rest = names.filter((name) => name !== metadata);
  for (let index = 0; index < rest.length; index += DELETE_CONCURRENCY) {
    await Promise.all(rest.slice(index, index + DELETE_CONCURRENCY).map((name) => store.deleteObject(container, name)));
  }
  await store.discardInterruptedPuts(container, prefix);
  await store.removeEmptyContainer(container);
  return names.length;
}
