/** See freshBuild.mjs. */
export function buildUnlessFresh(
  stampFile: string,
  build: () => Promise<{ inputs: Record<string, unknown>; outputs: Record<string, unknown> }>,
  extra?: { inputs?: string[]; outputs?: string[] },
): Promise<boolean>;
