/**
 * One schema change. Kept as a TS module exporting SQL (not a .sql file) so the compiled `dist/`
 * carries it without a copy step. Never edit a migration once released: add the next version.
 */
export interface Migration {
  /** Strictly increasing, starting at 1. */
  version: number;
  name: string;
  /** A script of one or more statements, run inside the migration transaction. */
  sql: string;
}
