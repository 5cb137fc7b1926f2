export function defineItemV1(lib: unknown): any
export function defineItemV2(lib: unknown): any
export function migrateToV2(old: { label?: string; n: number }): { title: string; n: number } | undefined
export function titleWords(item: { title?: unknown }): string[] | undefined
