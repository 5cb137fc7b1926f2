/**
 * The preload script: it exposes one function to the renderer. Sandboxed preloads cannot import
 * local files, so it repeats the channel name; the type ties it to protocol.ts. Build it as
 * CommonJS (preload.cjs) or bundle it.
 */
import { contextBridge, ipcRenderer } from 'electron'
import type { StoreBridge } from './electron-ipc.js'
import type { STORE_CHANNEL } from './protocol.js'

const channel: typeof STORE_CHANNEL = 'stowage:notes'

const bridge: StoreBridge = { invoke: (request) => ipcRenderer.invoke(channel, request) }
contextBridge.exposeInMainWorld('stowage', bridge)
