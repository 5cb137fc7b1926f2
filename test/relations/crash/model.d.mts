export function defineModels(lib: unknown): { Account: any; Comment: any }
