export function defineItem(lib: unknown): any
export function titleWords(item: { title?: unknown }): string[] | undefined
export function stateOf(props: Record<string, unknown>): ItemState
export interface ItemState {
  name?: string
  tags?: string[]
  code?: string
  n?: number
  title?: string
}
