import type { Database } from './engine.ts'

const engines = new WeakMap<Database, 'postgres' | 'pglite'>()

/** @internal engine.ts records which engine each Database runs on. */
export const recordEngine = (db: Database, engine: 'postgres' | 'pglite') => void engines.set(db, engine)

/**
 * Prepared statements for the hottest queries (every authenticated request runs them). Drizzle
 * builds a query's SQL on every call, which under load costs more CPU than PostgreSQL's answer;
 * a prepared query is built once per process. On PostgreSQL it is also named, so each
 * connection parses it once. PGlite is one session shared by every client, where a name
 * prepared by one connection would collide with the next: there it stays unnamed.
 */
export function preparedFor<T>(build: (db: Database, name: (name: string) => string) => T): (db: Database) => T {
  const cache = new WeakMap<Database, T>()
  return (db) => {
    let prepared = cache.get(db)
    if (!prepared) {
      const named = engines.get(db) === 'postgres'
      prepared = build(db, (name) => (named ? name : ''))
      cache.set(db, prepared)
    }
    return prepared
  }
}
