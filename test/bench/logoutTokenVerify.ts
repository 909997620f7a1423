/**
 * A/B of a logout token's verification, in this process: jose's `jwtVerify` (WebCrypto; how
 * src/backchannel/verifyLogoutToken.ts verified until the fifth pass, README "Performance") against
 * `verifyLogoutToken` as it is now (the signature with node:crypto against the key jose's key set
 * picks, the claims checked in the function), both given the same RS256 tokens, a fresh `jti` and
 * `sub` each, the same local JSON Web Key Set, 32 verifications in flight (a logout storm at the
 * benchmark's 32 connections). The figure is this process's CPU (user + system, every thread: the
 * WebCrypto jobs run on libuv's pool) per token; rounds alternate the order; medians, and the
 * median of the per-round ratios now / jose.
 *
 *   npx tsx test/bench/logoutTokenVerify.ts [rounds=5] [tokens=10000]
 */
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { BACKCHANNEL_LOGOUT_EVENT, verifyLogoutToken } from '../../src/backchannel/verifyLogoutToken.js';
import { mainThreadCpuMsOf } from './replicas.js';
import { median } from './stats.js';

const [roundsArg = '5', tokensArg = '10000'] = process.argv.slice(2);
const rounds = Number(roundsArg);
const count = Number(tokensArg);
const issuer = 'http://127.0.0.1:3000/oidc';
const audience = 'board-bff';

const { privateKey, publicKey } = await generateKeyPair('RS256');
const keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] });
const policy = { issuer, audience, algorithm: 'RS256', keys, clockToleranceSeconds: 60 };
const now = Math.floor(Date.now() / 1000);
const tokens = await Promise.all(
  Array.from({ length: count }, (_, i) =>
    new SignJWT({ iss: issuer, aud: audience, iat: now, exp: now + 600, jti: crypto.randomUUID(), sub: `nobody-${i}`, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'logout+jwt' })
      .sign(privateKey),
  ),
);

const variants: [string, (token: string) => Promise<unknown>][] = [
  ['jose jwtVerify', (token) => jwtVerify(token, keys, { issuer, audience, algorithms: ['RS256'], clockTolerance: 60, requiredClaims: ['iss', 'aud', 'iat', 'exp', 'jti'] })],
  ['verifyLogoutToken', (token) => verifyLogoutToken(token, policy)],
];

/** CPU µs per token with 32 verifications in flight: the whole process's, and the main thread's alone. */
async function cpuPerToken(verify: (token: string) => Promise<unknown>): Promise<[number, number]> {
  let next = 0;
  const worker = async () => {
    while (next < tokens.length) await verify(tokens[next++]!);
  };
  const before = process.cpuUsage();
  const mainBefore = mainThreadCpuMsOf(process.pid);
  await Promise.all(Array.from({ length: 32 }, worker));
  const used = process.cpuUsage(before);
  return [(used.user + used.system) / tokens.length, ((mainThreadCpuMsOf(process.pid) - mainBefore) * 1000) / tokens.length];
}

for (const [, verify] of variants) await verify(tokens[0]!); // keys imported, code warm
const results = new Map<string, [number, number][]>(variants.map(([name]) => [name, []]));
for (let r = 0; r < rounds; r++) {
  for (const [name, verify] of r % 2 ? [...variants].reverse() : variants) results.get(name)!.push(await cpuPerToken(verify));
}
const [jose, ours] = variants.map(([name]) => results.get(name)!);
console.table(
  variants.map(([name]) => ({
    variant: name,
    'CPU µs per token': Math.round(median(results.get(name)!.map((x) => x[0]))),
    'main thread CPU µs per token': Math.round(median(results.get(name)!.map((x) => x[1]))),
  })),
);
const ratio = (field: number) => {
  const perRound = ours!.map((x, r) => x[field]! / jose![r]![field]!);
  return `${median(perRound).toFixed(2)} (${perRound.map((x) => x.toFixed(2)).join(' ')})`;
};
console.log(`per-round ratio verifyLogoutToken / jose: CPU ${ratio(0)}; main thread CPU ${ratio(1)}`);
