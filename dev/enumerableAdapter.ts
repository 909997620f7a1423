/**
 * oidc-provider's storage adapter, in memory, with one thing its own memory adapter lacks: the
 * stored records can be listed (the demo's admin page lists provider sessions, as Keycloak's console
 * does). One instance per provider (`createEnumerableStore()`); expired records read as absent.
 */
export interface StoredRecord {
  payload: Record<string, any>;
  expiresAt: number;
}

export interface EnumerableStore {
  /** oidc-provider's `adapter` option: a class it instantiates once per model name. */
  Adapter: new (model: string) => unknown;
  /** Live records of one model (e.g. 'Session'), by id. */
  list(model: string): [string, Record<string, any>][];
}

export function createEnumerableStore(): EnumerableStore {
  const models = new Map<string, Map<string, StoredRecord>>();
  const table = (model: string) => {
    let rows = models.get(model);
    if (!rows) models.set(model, (rows = new Map()));
    return rows;
  };
  const live = (record: StoredRecord | undefined) => (record && record.expiresAt > Date.now() ? record.payload : undefined);
  let writes = 0;
  /** Drops expired records now and then, so a long demo or benchmark does not grow without bound. */
  const sweep = () => {
    if (++writes % 500 !== 0) return;
    const now = Date.now();
    for (const rows of models.values()) for (const [id, record] of rows) if (record.expiresAt <= now) rows.delete(id);
  };

  class Adapter {
    private readonly rows: Map<string, StoredRecord>;
    constructor(model: string) {
      this.rows = table(model);
    }
    async upsert(id: string, payload: Record<string, any>, expiresIn?: number) {
      this.rows.set(id, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
      sweep();
    }
    async find(id: string) {
      return live(this.rows.get(id));
    }
    async findByUid(uid: string) {
      for (const record of this.rows.values()) if (record.payload.uid === uid) return live(record);
      return undefined;
    }
    async findByUserCode(userCode: string) {
      for (const record of this.rows.values()) if (record.payload.userCode === userCode) return live(record);
      return undefined;
    }
    async consume(id: string) {
      const record = this.rows.get(id);
      if (record) record.payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      this.rows.delete(id);
    }
    async revokeByGrantId(grantId: string) {
      for (const rows of models.values()) {
        for (const [id, record] of rows) if (record.payload.grantId === grantId) rows.delete(id);
      }
    }
  }

  return {
    Adapter,
    list: (model) => [...table(model)].flatMap(([id, record]) => (live(record) ? [[id, record.payload] as [string, Record<string, any>]] : [])),
  };
}
