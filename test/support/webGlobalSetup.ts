import { buildWeb } from '../../scripts/buildWeb.js';

/** Builds the React app once per run (esbuild, well under a second) for the browser tests in test/web. */
export default async function setup(): Promise<void> {
  await buildWeb();
}
