/**
 * The Electron adapters. They are typed by the few members they use, so this module needs neither
 * the electron package nor its binary: Electron's own `ipcMain` and `app` fit these shapes.
 */
import type { RequestHandler } from './channel.js'
import { STORE_CHANNEL, type Request } from './protocol.js'

/** What `ipcMain` offers that the store uses. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: unknown, ...args: any[]) => unknown): void
  removeHandler(channel: string): void
}

/** What `app` offers that closing the store on quit uses. */
export interface AppLike {
  on(event: 'will-quit', listener: (event: { preventDefault(): void }) => void): unknown
  quit(): void
}

/**
 * What the preload exposes to the renderer as `window.stowage` (see preload.ts). Only a function
 * crosses the context bridge: the client, and the StoreError class it throws, live in the
 * renderer's own world, since class instances lose their prototype on the bridge.
 */
export interface StoreBridge {
  invoke(request: Request): Promise<unknown>
}

/**
 * Serves the store on `ipcMain` (main process); returns a function that stops. Every renderer's
 * `ipcRenderer.invoke(STORE_CHANNEL, request)` gets the service's answer, an `{ ok, ... }` value:
 * an error thrown in a handler would reach the renderer as a bare message, without its code.
 */
export function serveIpcMain(service: RequestHandler, ipcMain: IpcMainLike, channel: string = STORE_CHANNEL): () => void {
  ipcMain.handle(channel, (_event, request: unknown) => service.handle(request))
  return () => ipcMain.removeHandler(channel)
}

/**
 * Holds the app's exit back until the store is closed. Electron does not wait for a promise
 * returned from a 'will-quit' listener, so the first quit is prevented, the store closed (pending
 * requests finish, every write is flushed), and the app quit again.
 */
export function closeOnQuit(app: AppLike, close: () => Promise<void>, log: (message: string, err: unknown) => void = console.error): void {
  let state: 'open' | 'closing' | 'closed' = 'open'
  app.on('will-quit', (event) => {
    if (state === 'closed') return
    event.preventDefault()
    if (state === 'closing') return
    state = 'closing'
    close()
      .catch((err) => log('Could not close the store', err))
      .finally(() => {
        state = 'closed'
        app.quit()
      })
  })
}
