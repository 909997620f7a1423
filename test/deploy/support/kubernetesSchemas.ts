import { join } from 'node:path';
import ts from 'typescript';
import { ROOT, type Manifest } from './deployFiles.js';

/**
 * Checks rendered manifests against the Kubernetes API schemas shipped in the `kubernetes-models`
 * package (generated from Kubernetes' OpenAPI spec; nothing is downloaded at run time), twice:
 *  - its JSON-Schema validators: types, required fields, enums, formats;
 *  - its TypeScript interfaces, compiled with the documents as object literals: TypeScript's excess
 *    property check rejects a field the API does not have (a misspelt `readinesProbe`), which the
 *    OpenAPI schemas (no additionalProperties: false) let through.
 * Returns one line per problem; empty means valid.
 */
export async function schemaProblems(manifests: Manifest[]): Promise<string[]> {
  const problems: string[] = [];
  for (const doc of manifests) {
    const name = `${doc.kind}/${doc.metadata?.name}`;
    let Model: new (data: unknown) => { validate(): void };
    try {
      Model = (await import(modelModule(doc)))[doc.kind];
    } catch {
      problems.push(`${name}: no schema for apiVersion ${doc.apiVersion} kind ${doc.kind}`);
      continue;
    }
    try {
      new Model(secretDataUnwrapped(doc)).validate();
    } catch (error) {
      problems.push(`${name}: ${(error as Error).message.split('\n').join('; ')}`);
    }
  }
  return [...problems, ...typeProblems(manifests)];
}

/**
 * kustomize writes long base64 Secret values over several lines; the API server's decoder skips the
 * line breaks, the schema's "byte" pattern does not.
 */
function secretDataUnwrapped(doc: Manifest): Manifest {
  if (doc.kind !== 'Secret' || !doc.data) return doc;
  const data = Object.fromEntries(Object.entries(doc.data as Record<string, string>).map(([k, v]) => [k, v.replace(/\s+/g, '')]));
  return { ...doc, data };
}

function modelModule(doc: Manifest): string {
  return `kubernetes-models/${doc.apiVersion}/${doc.kind}`;
}

function typeProblems(manifests: Manifest[]): string[] {
  const file = join(ROOT, 'test/deploy/__rendered_manifests__.ts');
  const lines = manifests.flatMap((doc, i) => [
    `import type { I${doc.kind} as T${i} } from ${JSON.stringify(modelModule(doc))};`,
    `export const doc${i}: T${i} = ${JSON.stringify(doc, null, 1)};`,
  ]);
  const source = lines.join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, ...rest) =>
    name === file ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  const diagnostics = [...program.getSyntacticDiagnostics(), ...program.getSemanticDiagnostics()].filter((d) => d.file?.fileName === file);
  return diagnostics.map((d) => {
    const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
    const owner = [...source.split('\n').slice(0, line + 1)].reverse().find((l) => l.startsWith('export const doc'));
    const index = Number(owner?.match(/^export const doc(\d+)/)?.[1]);
    const doc = manifests[index];
    return `${doc ? `${doc.kind}/${doc.metadata?.name}` : 'manifest'}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}
