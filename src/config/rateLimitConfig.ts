import { isIP } from 'node:net';
import { ConfigError, type EnvReader } from './envReader.js';

/** Requests per window and client address; 0 turns a limit off. */
export interface RateLimitSettings {
  windowSeconds: number;
  login: number;
  callback: number;
  backchannel: number;
  /** Addresses or CIDR blocks of the provider: their back-channel POSTs are never limited. */
  providerAddresses: string[];
}

/** RATE_LIMIT_*: the sign-in and back-channel limits. */
export function readRateLimitConfig(env: EnvReader): RateLimitSettings {
  const { read, int } = env;
  return {
    windowSeconds: int('RATE_LIMIT_WINDOW_SECONDS', 60, 1, 3600),
    login: int('RATE_LIMIT_LOGIN', 30, 0, 1_000_000),
    callback: int('RATE_LIMIT_CALLBACK', 30, 0, 1_000_000),
    backchannel: int('RATE_LIMIT_BACKCHANNEL', 600, 0, 1_000_000),
    providerAddresses: addressList('RATE_LIMIT_PROVIDER_ADDRESSES', read('RATE_LIMIT_PROVIDER_ADDRESSES')),
  };
}

/** Comma-separated IP addresses or CIDR blocks (`10.0.0.0/8`, `::1`). */
function addressList(name: string, raw: string | undefined): string[] {
  if (raw === undefined) return [];
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const [address, bits, extra] = entry.split('/');
      const family = isIP(address ?? '');
      const maxBits = family === 6 ? 128 : 32;
      if (family === 0 || extra !== undefined || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= maxBits))) {
        throw new ConfigError(`${name} must list IP addresses or CIDR blocks, got "${entry}"`);
      }
      return entry;
    });
}
