/**
 * The few Electron APIs main.ts, preload.ts and renderer.ts use, with the signatures of the
 * electron package's own types, so that the example type-checks where electron is not installed.
 * In an app that depends on electron, delete this file: its types take over.
 */
declare module 'electron' {
  interface Event {
    preventDefault(): void
    readonly defaultPrevented: boolean
  }
  interface IpcMainInvokeEvent extends Event {}

  interface App {
    whenReady(): Promise<void>
    getPath(name: 'home' | 'appData' | 'userData' | 'sessionData' | 'temp' | 'exe' | 'module' | 'desktop' | 'documents' | 'downloads' | 'music' | 'pictures' | 'videos' | 'recent' | 'logs' | 'crashDumps'): string
    on(event: 'will-quit', listener: (event: Event) => void): this
    on(event: 'window-all-closed', listener: () => void): this
    on(event: 'activate', listener: (event: Event, hasVisibleWindows: boolean) => void): this
    quit(): void
  }
  export const app: App

  interface WebPreferences {
    preload?: string
    contextIsolation?: boolean
    sandbox?: boolean
    nodeIntegration?: boolean
  }
  interface BrowserWindowConstructorOptions {
    width?: number
    height?: number
    webPreferences?: WebPreferences
  }
  export class BrowserWindow {
    constructor(options?: BrowserWindowConstructorOptions)
    static getAllWindows(): BrowserWindow[]
    loadFile(filePath: string): Promise<void>
  }

  interface IpcMain {
    handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: any[]) => Promise<any> | any): void
    removeHandler(channel: string): void
  }
  export const ipcMain: IpcMain

  interface IpcRenderer {
    invoke(channel: string, ...args: any[]): Promise<any>
  }
  export const ipcRenderer: IpcRenderer

  interface ContextBridge {
    exposeInMainWorld(apiKey: string, api: any): void
  }
  export const contextBridge: ContextBridge
}
