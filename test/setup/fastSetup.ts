// The fast tier: a dev server and the workflow bundle, no database.
import { startTemporal } from './temporal';

export default async function fastSetup(): Promise<void> {
  await startTemporal();
}
