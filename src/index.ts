import 'reflect-metadata'
export { Types, isType, type Type } from './types/types.js'
