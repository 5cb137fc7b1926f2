/**
 * The Electron main process: it opens the store and serves it to every window over IPC. Run as an
 * ES module (Electron 28 and later load an ESM main script: "type": "module" or main.mjs).
 * Stowage could equally live in a utility process (utilityProcess.fork) that serves a
 * MessageChannelMain port per window; the service and protocol stay the same.
 */
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { app, BrowserWindow, ipcMain } from 'electron'
import { Database } from '../../src/index.js'
import { closeOnQuit, serveIpcMain } from './electron-ipc.js'
import { models } from './models.js'
import { NotesService } from './store-service.js'

const here = fileURLToPath(new URL('.', import.meta.url))

await app.whenReady()
// The default LevelEngine, in the app's own data directory (per user and per app name).
const db = await Database.open({ path: join(app.getPath('userData'), 'notes-store'), models })
const service = new NotesService(db)
const stopServing = serveIpcMain(service, ipcMain)
closeOnQuit(app, async () => {
  stopServing()
  await service.close() // lets answered-to requests finish, then flushes and closes the database
})

function openWindow(): void {
  const window = new BrowserWindow({
    width: 900,
    height: 700,
    webPreferences: {
      // Built from preload.ts as CommonJS: a sandboxed preload cannot be an ES module.
      preload: join(here, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
    },
  })
  void window.loadFile(join(here, 'index.html')) // your page, loading the bundled renderer.ts
}

// Two windows, two renderers, one store: their requests interleave and every write is serialized.
openWindow()
openWindow()
app.on('activate', () => {
  if (BrowserWindow.getAllWindows().length === 0) openWindow()
})
app.on('window-all-closed', () => app.quit())
