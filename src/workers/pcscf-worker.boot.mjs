// Loads the TypeScript worker under tsx, for runs from the sources (tests, `npm run dev`): Node 20
// workers inherit neither the main thread's module hooks nor --import. Compiled runs load
// pcscf-worker.js directly.
import { register } from 'tsx/esm/api';

register();
const { default: run } = await import(new URL('./pcscf-worker.ts', import.meta.url).href);
export default run;
