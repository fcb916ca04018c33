import type { Database } from './engine.ts'

/**
 * Prepared statements for the hottest queries (every authenticated request runs them). Drizzle
 * builds a query's SQL on every call, which under load costs more CPU than PostgreSQL's answer;
 * a prepared query is built once per process and named, so each connection parses it once.
 */
export function preparedFor<T>(build: (db: Database, name: (name: string) => string) => T): (db: Database) => T {
  const cache = new WeakMap<Database, T>()
  return (db) => {
    let prepared = cache.get(db)
    if (!prepared) {
      prepared = build(db, (name) => name)
      cache.set(db, prepared)
    }
    return prepared
  }
}
