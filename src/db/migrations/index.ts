import type { Migration } from './migration.js';
import { v1InitialSchema } from './v1InitialSchema.js';
import { v2AuditLog } from './v2AuditLog.js';

export type { Migration };

/** Every migration, in version order. Append new ones; never reorder or edit released ones. */
export const migrations: readonly Migration[] = [v1InitialSchema, v2AuditLog];
