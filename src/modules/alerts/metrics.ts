import type { Executor } from '../../db/engine.ts'
import { deliveryCounts } from './repository.ts'

/** Alert deliveries by channel kind and status (sent, retrying, failed, pending), for `GET /metrics`. */
export const alertDeliveryCounts = (db: Executor) => deliveryCounts(db)
