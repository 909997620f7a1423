/** Thrown for a missing or malformed setting; its message is the one line start-up prints. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type Env = Record<string, string | undefined>;

/** Typed, validated reads of one environment; each failure is a ConfigError naming the variable. */
export interface EnvReader {
  /** The trimmed value, or undefined when unset or blank. */
  read(name: string): string | undefined;
  required(name: string, why?: string): string;
  /** A whole number within [min, max]. */
  int(name: string, fallback: number, min: number, max: number): number;
  bool(name: string, fallback: boolean): boolean;
  /** `raw` as an absolute URL with one of `protocols`. */
  url(name: string, raw: string, protocols?: string[]): URL;
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T;
  /** `parsed`, refused if it carries a user name or password. */
  noCredentials(name: string, parsed: URL): URL;
}

export function createEnvReader(env: Env): EnvReader {
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  return {
    read,
    required(name, why = 'is required') {
      const value = read(name);
      if (value === undefined) throw new ConfigError(`${name} ${why}`);
      return value;
    },
    int(name, fallback, min, max) {
      const raw = read(name);
      if (raw === undefined) return fallback;
      if (!/^-?\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
      const value = Number(raw);
      if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
      return value;
    },
    bool(name, fallback) {
      const raw = read(name);
      if (raw === undefined) return fallback;
      if (raw === 'true' || raw === 'false') return raw === 'true';
      throw new ConfigError(`${name} must be true or false, got "${raw}"`);
    },
    url(name, raw, protocols = ['http:', 'https:']) {
      let parsed: URL;
      try {
        parsed = new URL(raw);
      } catch {
        throw new ConfigError(`${name} must be an absolute URL, got "${raw}"`);
      }
      if (!protocols.includes(parsed.protocol)) {
        throw new ConfigError(`${name} must use ${protocols.join(' or ')}, got "${parsed.protocol}"`);
      }
      return parsed;
    },
    oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
      const value = read(name) ?? fallback;
      if (!allowed.includes(value as T)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
      return value as T;
    },
    noCredentials(name, parsed) {
      if (parsed.username || parsed.password) throw new ConfigError(`${name} must not carry a user name or password`);
      return parsed;
    },
  };
}
