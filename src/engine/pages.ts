/** Items grouped in arrays of at most `size`, read as they come. */
export async function* pagesOf<T>(items: AsyncIterable<T>, size = 256): AsyncGenerator<T[]> {
  let page: T[] = []
  for await (const item of items) {
    page.push(item)
    if (page.length >= size) {
      yield page
      page = []
    }
  }
  if (page.length > 0) yield page
}
