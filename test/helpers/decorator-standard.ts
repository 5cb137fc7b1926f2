/**
 * The decorator convention this test file was compiled with: 'legacy' (experimentalDecorators, the
 * define-fields and assign-fields projects) or 'standard' (TC39, the standard-decorators project).
 */
export const decoratorStandard: 'legacy' | 'standard' = (() => {
  let seen: 'legacy' | 'standard' = 'legacy'
  const probe = (_target: unknown, context: unknown): void => {
    if (typeof context === 'object' && context !== null) seen = 'standard'
  }
  class Probe {
    @probe value?: string
  }
  void Probe
  return seen
})()
