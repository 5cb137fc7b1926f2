/** The parameter sets of bench/queries.ts, drawn from a fixed seed so every system and run gets the same. */
import { AUTHORS, SCORE_MAX, STATUSES, rng } from './peers/workload.js'
import type { Params } from './queries-systems.js'

/** Parameter sets drawn per run; each system goes through the same sequence. */
export const PARAMS = 500

const TAGS = Array.from({ length: 50 }, (_, k) => `tag${k}`)

export function drawParams(): Params[] {
  const r = rng(2026)
  const pick = <T>(list: readonly T[]) => list[Math.floor(r() * list.length)]!
  return Array.from({ length: PARAMS }, () => {
    const gte = Math.floor(r() * (SCORE_MAX - SCORE_MAX / 100))
    return { author: pick(AUTHORS), status: pick(STATUSES), tag: pick(TAGS), gte, lt: gte + SCORE_MAX / 100 }
  })
}
