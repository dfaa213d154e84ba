// Worker-thread entry for a TypeScript worker module when the service runs from source (tsx,
// vitest): Node 20 does not apply --import loaders to worker threads, so this registers tsx's
// loader itself and re-exports the module named by workerData.tsEntry. Built code (dist/) uses
// the compiled .js worker directly and never loads this file.
import { workerData } from 'piscina';
import { register } from 'tsx/esm/api';

register();
const worker = await import(workerData.tsEntry);
export default worker.default;
